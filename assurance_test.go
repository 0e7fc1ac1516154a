package sls_test

import (
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func TestAccessCheck(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	window := 5 * time.Minute
	session := func(kind sls.DeviceKind, scope sls.Scope, provenAgo time.Duration) *sls.Session {
		s := &sls.Session{DeviceKind: kind, Scope: scope}
		if kind != "" {
			s.ProvenKind, s.ProvenAt = kind, now.Add(-provenAgo)
		}
		return s
	}
	read := sls.Access{Caller: sls.CallerClient, Need: sls.NeedSession}
	twoFA := sls.Access{Caller: sls.CallerClient, Need: sls.NeedSecondFactor}
	step := sls.Access{Caller: sls.CallerClient, Need: sls.NeedStepUp}
	card := sls.Access{Caller: sls.CallerClient, Need: sls.NeedStepUpOrTemporary, Scopes: []sls.Scope{sls.ScopeOnlineCardOnly}}
	closed := sls.Access{Caller: sls.CallerClient, Need: sls.NeedSession, Scopes: []sls.Scope{sls.ScopeStatementsOnly}}
	for _, c := range []struct {
		name string
		a    sls.Access
		s    *sls.Session
		want sls.Code // "" allowed
	}{
		{"password reads", read, session("", sls.ScopeFull, 0), ""},
		{"password no 2FA route", twoFA, session("", sls.ScopeFull, 0), sls.CodeStepUpRequired},
		{"password no step-up route", step, session("", sls.ScopeFull, 0), sls.CodeStepUpRequired},
		{"password no card route", card, session("", sls.ScopeFull, 0), sls.CodeStepUpRequired},
		{"fresh device login", step, session(sls.KindDSCPlus, sls.ScopeFull, time.Minute), ""},
		{"window edge", step, session(sls.KindIBKey, sls.ScopeFull, window), ""},
		{"stale device login", step, session(sls.KindIBKey, sls.ScopeFull, window+time.Second), sls.CodeStepUpRequired},
		{"temp passcode no step-up", step, session(sls.KindTempPasscode, sls.ScopeFull, 0), sls.CodeStepUpRequired},
		{"temp passcode card route", card, session(sls.KindTempPasscode, sls.ScopeFull, 0), ""},
		{"temp passcode day 3 card route", card, session(sls.KindTempPasscode, sls.ScopeOnlineCardOnly, 0), ""},
		{"temp passcode day 3 read", read, session(sls.KindTempPasscode, sls.ScopeOnlineCardOnly, 0), sls.CodeForbidden},
		{"temp passcode 2FA", twoFA, session(sls.KindTempPasscode, sls.ScopeFull, 0), ""},
		{"closed account statements", closed, session("", sls.ScopeStatementsOnly, 0), ""},
		{"closed account elsewhere", read, session("", sls.ScopeStatementsOnly, 0), sls.CodeForbidden},
		{"unknown kind fails closed", step, session("hologram", sls.ScopeFull, 0), sls.CodeStepUpRequired},
		{"proof in the future", step, session(sls.KindDSCPlus, sls.ScopeFull, -time.Hour), sls.CodeStepUpRequired},
		{"operator route", sls.Access{Caller: sls.CallerOperator}, session(sls.KindDSCPlus, sls.ScopeFull, 0), sls.CodeForbidden},
		{"undeclared", sls.Access{}, session(sls.KindDSCPlus, sls.ScopeFull, 0), sls.CodeForbidden},
	} {
		err := c.a.Check(c.s, now, window)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			}
			continue
		}
		if got := sls.ErrorCode(err); got != c.want {
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
	if !errors.Is(step.Check(session("", sls.ScopeFull, 0), now, window), sls.ErrStepUpRequired) {
		t.Error("step-up refusal does not match ErrStepUpRequired")
	}
}
