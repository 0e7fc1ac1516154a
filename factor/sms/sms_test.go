package sms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// recorder is a Notifier that keeps the codes it was asked to send.
type recorder struct{ sent []sls.Notification }

func (r *recorder) Notify(_ context.Context, _ sls.Tx, n sls.Notification) error {
	r.sent = append(r.sent, n)
	return nil
}

func setup(t *testing.T, rules sms.Rules) (sls.Store, *sms.Codes, *recorder, *sls.User) {
	store := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, store, "sam")
	sealer, _ := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	rec := &recorder{}
	return store, &sms.Codes{Sealer: sealer, Notifier: rec, Rules: rules.WithDefaults()}, rec, u
}

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func send(s sls.Store, c *sms.Codes, u *sls.User, to string, last, now time.Time) error {
	return s.Update(context.Background(), func(tx sls.Tx) error {
		_, err := c.Send(context.Background(), tx, u, "192.0.2.1", to, notify.ChannelSMS, notify.KindLoginCodeSMS, last, now)
		return err
	})
}

func TestResendInterval(t *testing.T) {
	s, c, rec, u := setup(t, sms.Rules{})
	if err := send(s, c, u, "+36301112222", time.Time{}, t0); err != nil {
		t.Fatal(err)
	}
	// SPEC §1: at most every 2 minutes.
	err := send(s, c, u, "+36301112222", t0, t0.Add(119*time.Second))
	if sls.ErrorCode(err) != sls.CodeRateLimited {
		t.Fatalf("resend after 119s: %v", err)
	}
	if err := send(s, c, u, "+36301112222", t0, t0.Add(2*time.Minute)); err != nil {
		t.Fatalf("resend after 2m: %v", err)
	}
	if len(rec.sent) != 2 {
		t.Fatalf("%d codes sent, want 2", len(rec.sent))
	}
	code := rec.sent[0].Data["Code"]
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		t.Fatalf("code %q is not 6 digits", code)
	}
}

func TestCaps(t *testing.T) {
	cases := []struct {
		name  string
		rules sms.Rules
		sends func(i int) (to string, at time.Time)
		want  string
		after int
	}{
		{"per user per day", sms.Rules{MaxPerUserDay: 3, ResendInterval: time.Second},
			func(i int) (string, time.Time) {
				return "+3630111222" + string(rune('0'+i)), t0.Add(time.Duration(i) * time.Minute)
			},
			"per user per day", 3},
		{"per number per day", sms.Rules{MaxPerNumberDay: 2, ResendInterval: time.Second},
			func(i int) (string, time.Time) { return "+36301112222", t0.Add(time.Duration(i) * time.Minute) },
			"per number per day", 2},
		{"per region per hour", sms.Rules{MaxPerRegionHour: 4, ResendInterval: time.Second},
			func(i int) (string, time.Time) {
				return "+3630111223" + string(rune('0'+i)), t0.Add(time.Duration(i) * time.Minute)
			},
			"per region per hour", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c, rec, u := setup(t, tc.rules)
			var err error
			for i := 0; i < 6 && err == nil; i++ {
				to, at := tc.sends(i)
				err = send(s, c, u, to, time.Time{}, at)
			}
			var e *sls.Error
			if !errors.As(err, &e) || e.Code != sls.CodeRateLimited || e.Detail["cap"] != tc.want {
				t.Fatalf("err = %v, want the %s cap", err, tc.want)
			}
			if len(rec.sent) != tc.after {
				t.Fatalf("%d sent, want %d: a capped request must send nothing", len(rec.sent), tc.after)
			}
		})
	}
}

func TestVerifyRules(t *testing.T) {
	s, c, rec, u := setup(t, sms.Rules{})
	u.Mobile, u.MobileVerifiedAt = "+36301112222", t0
	f := &sms.Factor{Codes: c}
	l := &sls.Challenge{CreatedAt: t0, Deadline: t0.Add(10 * time.Minute)}
	err := s.Update(context.Background(), func(tx sls.Tx) error { return f.Challenge(context.Background(), tx, u, nil, l, t0) })
	if err != nil {
		t.Fatal(err)
	}
	code := rec.sent[0].Data["Code"]
	verify := func(answer string, at time.Time) error {
		_, err := f.Verify(context.Background(), nil, u, nil, l, answer, at)
		return err
	}
	// NIST SP 800-63B §5.1.3.2: 10 minutes.
	if err := verify(code, t0.Add(10*time.Minute)); sls.ErrorCode(err) != sls.CodeLoginExpired {
		t.Fatalf("at 10 minutes: %v", err)
	}
	for i := 0; i < 5; i++ {
		if err := verify("000000", t0); !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	// Five wrong answers use the code up, even the right one fails now.
	if err := verify(code, t0); err == nil {
		t.Fatal("code accepted after 5 failed attempts")
	}
	// Suspension after a number change.
	u.MobileChangedAt = t0
	if f.Available(u, nil, nil, t0.Add(71*time.Hour)) || !f.Available(u, nil, nil, t0.Add(72*time.Hour)) {
		t.Fatal("SMS suspension after a number change is not 72h")
	}
	u.MobileVerifiedAt = time.Time{}
	if f.Available(u, nil, nil, t0.Add(100*time.Hour)) {
		t.Fatal("SMS available on an unverified number")
	}
}

func TestRulesValidate(t *testing.T) {
	if err := (sms.Rules{CodeTTL: 11 * time.Minute}).WithDefaults().Validate(); err == nil {
		t.Fatal("accepted codes living longer than NIST's 10 minutes")
	}
	if err := sms.DefaultRules().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestMaskNumber(t *testing.T) {
	if got := sms.MaskNumber("+36301234567"); got != "+36•••••4567" {
		t.Fatalf("mask = %q", got)
	}
}

// TestChallengeAgainWithinInterval: choosing the SMS device again (a new
// challenge, on this login or another) within the resend interval sends
// nothing: the code already sent stands, with the wrong answers it has
// had. Only after the interval does a new challenge send a new code.
func TestChallengeAgainWithinInterval(t *testing.T) {
	s, c, rec, u := setup(t, sms.Rules{})
	u.Mobile, u.MobileVerifiedAt = "+36301112222", t0
	f := &sms.Factor{Codes: c}
	d := &sls.Device{ID: "dev_sms", UserID: u.ID, Kind: sls.KindSMS, State: sls.StateActive}
	challenge := func(at time.Time) *sls.Challenge {
		l := &sls.Challenge{CreatedAt: at, Deadline: at.Add(10 * time.Minute)}
		if err := s.Update(context.Background(), func(tx sls.Tx) error { return f.Challenge(context.Background(), tx, u, d, l, at) }); err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := challenge(t0)
	code := rec.sent[0].Data["Code"]
	if _, err := f.Verify(context.Background(), nil, u, d, first, "000000", t0.Add(time.Second)); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("wrong code: %v", err)
	}
	var again *sls.Challenge
	for i := range 6 {
		again = challenge(t0.Add(time.Duration(10+i) * time.Second))
	}
	if len(rec.sent) != 1 {
		t.Fatalf("%d codes sent for 7 challenges within the interval, want 1", len(rec.sent))
	}
	if want := t0.Add(2 * time.Minute); !again.Prompt.ResendAfter.Equal(want) {
		t.Fatalf("resend after %v, want %v (from the code actually sent)", again.Prompt.ResendAfter, want)
	}
	// The wrong answer given to the first challenge still counts: four
	// more use the code up.
	for range 4 {
		if _, err := f.Verify(context.Background(), nil, u, d, again, "000000", t0.Add(time.Minute)); !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	if _, err := f.Verify(context.Background(), nil, u, d, again, code, t0.Add(time.Minute)); err == nil {
		t.Fatal("re-selecting reset the code's attempts: accepted after 5 wrong answers")
	}
	challenge(t0.Add(2 * time.Minute))
	if len(rec.sent) != 2 {
		t.Fatalf("%d codes sent after the interval, want 2", len(rec.sent))
	}
}

// The resend interval holds however a code is asked for: a second
// challenge to the same device within it (choosing the device again, a
// new login, a step-up) sends nothing and shares the code already sent;
// that code is single use across the challenges sharing it, and a resend
// through one of them kills it in all (SPEC §1; NIST SP 800-63B §5.1.3.2).
func TestChallengesShareTheDevicesCode(t *testing.T) {
	s, c, rec, u := setup(t, sms.Rules{})
	u.Mobile, u.MobileVerifiedAt = "+36301112222", t0
	f := &sms.Factor{Codes: c}
	d := &sls.Device{ID: "dev_sms", UserID: u.ID, Kind: sls.KindSMS}
	ctx := context.Background()
	challenge := func(at time.Time) (*sls.Challenge, error) {
		l := &sls.Challenge{CreatedAt: at, Deadline: at.Add(10 * time.Minute)}
		return l, s.Update(ctx, func(tx sls.Tx) error { return f.Challenge(ctx, tx, u, d, l, at) })
	}
	verify := func(l *sls.Challenge, answer string, at time.Time) error {
		_, err := f.Verify(ctx, nil, u, d, l, answer, at)
		return err
	}
	a, err := challenge(t0)
	if err != nil {
		t.Fatal(err)
	}
	code := rec.sent[0].Data["Code"]
	b, err := challenge(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 {
		t.Fatalf("a second challenge within the interval sent a code: %d sent", len(rec.sent))
	}
	if want := t0.Add(2 * time.Minute); !b.Prompt.ResendAfter.Equal(want) {
		t.Fatalf("prompt says a new code at %v, want %v (2 minutes after the one sent)", b.Prompt.ResendAfter, want)
	}
	// Wrong answers through one challenge count in the other.
	for range 4 {
		if err := verify(a, "000000", t0); !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	if err := verify(b, "000000", t0); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("fifth wrong code: %v", err)
	}
	if err := verify(a, code, t0); err == nil {
		t.Fatal("code accepted after 5 failed attempts over two challenges")
	}

	// After the interval: a new code. Used in one challenge, it is dead in
	// the other that shared it.
	at := t0.Add(2 * time.Minute)
	a, err = challenge(at)
	if err != nil {
		t.Fatal(err)
	}
	code = rec.sent[len(rec.sent)-1].Data["Code"]
	if b, err = challenge(at.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := verify(a, code, at); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := verify(b, code, at); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("the used code through the other challenge: %v, want conflict", err)
	}
	// Within the interval a spent code is not replaced: asking again is
	// refused with the wait.
	if _, err := challenge(at.Add(time.Minute)); sls.ErrorCode(err) != sls.CodeRateLimited {
		t.Fatalf("a challenge within the interval after the code was used: %v", err)
	}

	// A resend through one challenge kills the code the other holds.
	at = at.Add(2 * time.Minute)
	if a, err = challenge(at); err != nil {
		t.Fatal(err)
	}
	old := rec.sent[len(rec.sent)-1].Data["Code"]
	if b, err = challenge(at); err != nil {
		t.Fatal(err)
	}
	at = at.Add(2 * time.Minute)
	if err := s.Update(ctx, func(tx sls.Tx) error { return f.Resend(ctx, tx, u, d, a, "sms", at) }); err != nil {
		t.Fatal(err)
	}
	if err := verify(b, old, at); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("the replaced code: %v, want conflict", err)
	}
	if err := verify(a, rec.sent[len(rec.sent)-1].Data["Code"], at); err != nil {
		t.Fatalf("the new code: %v", err)
	}
}
