package protect

import (
	"context"
	"testing"

	sls "github.com/secure-login-system/sls"
)

// TestSessionGate: the login's IP rule, applied to every use of a
// trading-platform session; portal sessions and users without
// restrictions pass.
func TestSessionGate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("S1", "US")
	u := e.user("sara", "S1")
	trading := &sls.Session{ID: "ses_t", UserID: u.ID, Platform: sls.PlatformTrading}
	portal := &sls.Session{ID: "ses_p", UserID: u.ID, Platform: sls.PlatformPortal}
	check := func(s *sls.Session, ip string) string {
		var err error
		if verr := e.store.View(ctx, func(tx sls.Tx) error {
			err = SessionGate{}.CheckSession(ctx, tx, s, u, ip, e.clk.Now())
			return nil
		}); verr != nil {
			t.Fatal(verr)
		}
		return codeOf(err)
	}
	if got := check(trading, "198.51.100.9"); got != "" {
		t.Fatalf("no restrictions: %q", got)
	}
	if _, err := e.svc.SetIPRestrictions(ctx, "user:"+u.ID, u.Username, []string{"203.0.113.0/24"}, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    *sls.Session
		ip   string
		code string
	}{
		{trading, "203.0.113.5", ""},
		{trading, "::ffff:203.0.113.5", ""},
		{trading, "198.51.100.9", "ip_not_allowed"},
		{trading, "", "ip_not_allowed"}, // no address: fail closed
		{portal, "198.51.100.9", ""},
	} {
		if got := check(c.s, c.ip); got != c.code {
			t.Errorf("%s from %q: %q, want %q", c.s.Platform, c.ip, got, c.code)
		}
	}
}
