package protect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/policy"
)

// TestOptOutPermissionsAndJurisdictions: only a user with the permission
// to change security settings may opt out or back in (others are told who
// may), and accounts resident where 2FA is mandated cannot opt out.
func TestOptOutPermissionsAndJurisdictions(t *testing.T) {
	cases := []struct {
		name         string
		jurisdiction string
		mandated     []string
		admin        bool
		optOut       bool
		code, cond   string
	}{
		{"admin opts out in the US", "US", nil, true, true, "", ""},
		{"non-admin opts out", "US", nil, false, true, "forbidden", policy.CondSecurityPermission},
		{"admin in Hong Kong", "HK", nil, true, true, "not_eligible", policy.CondJurisdictionMandates2FA},
		{"admin in India", "IN", nil, true, true, "not_eligible", policy.CondJurisdictionMandates2FA},
		{"non-admin in India is told about the mandate first", "IN", nil, false, true, "not_eligible", policy.CondJurisdictionMandates2FA},
		{"configured list: Hungary mandates", "HU", []string{"HU"}, true, true, "not_eligible", policy.CondJurisdictionMandates2FA},
		{"configured list: India no longer", "IN", []string{"HU"}, true, true, "", ""},
		{"empty list mandates nowhere", "HK", []string{}, true, true, "", ""},
		{"admin opts in", "US", nil, true, false, "", ""},
		{"non-admin opts in", "US", nil, false, false, "forbidden", policy.CondSecurityPermission},
		{"opt in from Hong Kong", "HK", nil, true, false, "", ""},
	}
	e := newEnv(t, nil)
	ctx := context.Background()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.svc.Config.Mandated2FA = c.mandated
			acct := fmt.Sprintf("P%d", i)
			e.account(acct, c.jurisdiction)
			boss := e.user(fmt.Sprintf("boss%d", i), acct, admin)
			var opts []userOpt
			if c.admin {
				opts = append(opts, admin)
			}
			u := e.user(fmt.Sprintf("user%d", i), acct, opts...)
			if !c.optOut { // start opted out so that opting in changes something
				u.OptedOut = true
				if err := e.store.Update(ctx, func(tx sls.Tx) error { return tx.PutUser(ctx, u) }); err != nil {
					t.Fatal(err)
				}
			}
			p, err := e.svc.SetParticipation(ctx, session(u, sls.KindDSCPlus, "dev_1"), u, "", c.optOut)
			if codeOf(err) != c.code || condOf(err) != c.cond {
				t.Fatalf("got %v, want %s/%s", err, c.code, c.cond)
			}
			if c.cond == policy.CondSecurityPermission {
				// Others see which users have the permission.
				holders := err.(*sls.Error).Detail["holders"].([]string)
				if !slices.Equal(holders, []string{boss.Username}) || !strings.Contains(err.Error(), boss.Username) {
					t.Fatalf("holders not named: %v", err)
				}
			}
			got := e.reload(u)
			if c.code == "" {
				if got.OptedOut != c.optOut || got.Always2FA == c.optOut || !*p.Changed {
					t.Fatalf("stored participation: %+v %+v", got, p)
				}
			} else if got.OptedOut == c.optOut {
				t.Fatal("participation changed although refused")
			}
		})
	}
}

func TestOptOutOtherUserAndSession(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("Q1", "US")
	boss := e.user("quentin", "Q1", admin)
	clerk := e.user("clara", "Q1")
	e.account("Q2", "US")
	stranger := e.user("stan", "Q2")
	sess := session(boss, sls.KindDSCPlus, "dev_1")
	// The admin opts a colleague out, and back in.
	if _, err := e.svc.SetParticipation(ctx, sess, boss, "clara", true); err != nil {
		t.Fatal(err)
	}
	if !e.reload(clerk).OptedOut {
		t.Fatal("colleague not opted out")
	}
	p, err := e.svc.SetParticipation(ctx, sess, boss, "clara", false)
	if err != nil || !p.Always2FA || e.reload(clerk).OptedOut {
		t.Fatalf("opt back in: %+v %v", p, err)
	}
	// Doing it again changes nothing.
	if p, _ := e.svc.SetParticipation(ctx, sess, boss, "clara", false); *p.Changed {
		t.Fatal("a no-op reported a change")
	}
	// Users of another account do not exist for the caller.
	if _, err := e.svc.SetParticipation(ctx, sess, boss, stranger.Username, true); codeOf(err) != "not_found" {
		t.Fatalf("other account: %v", err)
	}
	// (A password-only session never reaches this: the routes declare a
	// step-up; see docs/access.md.)
	info, err := e.svc.Participation(ctx, clerk, "")
	if err != nil || !slices.Equal(info.SecurityAdmins, []string{"quentin"}) || info.Mandates2FA {
		t.Fatalf("participation: %+v %v", info, err)
	}
	events := strings.Join(e.auditEvents(), "\n")
	for _, ev := range []string{EventOptedOut, EventOptedIn} {
		if !strings.Contains(events, ev) {
			t.Errorf("%s not audited", ev)
		}
	}
}

// loginEnv runs real logins through the login service with the Gate.
func (e *env) loginService(t *testing.T) *login.Service {
	t.Helper()
	svc, err := login.New(login.Deps{Store: e.store, Factors: e.factors, Clock: e.clk, Gate: Gate{Next: login.BasicGate{}},
		Config: login.Config{Argon: fastArgon}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestGateOptOutAndIPRestrictions: opted-out users log in to trading
// platforms with the password alone and still answer 2FA on the portal;
// IP restrictions refuse trading logins from elsewhere (audited) and leave
// the portal alone.
func TestGateOptOutAndIPRestrictions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("G1", "US")
	u := e.user("gina", "G1", admin)
	d, key := e.dsc(u, "2468")
	ls := e.loginService(t)
	start := func(p sls.Platform, ip string) (*login.Step, error) {
		return ls.Start(ctx, login.StartRequest{Username: "gina", Password: "correct horse battery", Platform: p, ClientIP: ip})
	}
	// In SLS: both platforms need the card.
	for _, p := range []sls.Platform{sls.PlatformPortal, sls.PlatformTrading} {
		if st, err := start(p, "192.0.2.1"); err != nil || st.State != sls.LoginChallenged {
			t.Fatalf("%s before opt-out: %+v %v", p, st, err)
		}
	}
	if _, err := e.svc.SetParticipation(ctx, session(u, sls.KindDSCPlus, d.ID), u, "", true); err != nil {
		t.Fatal(err)
	}
	st, err := start(sls.PlatformTrading, "192.0.2.1")
	if err != nil || st.Session == nil || st.Session.Session.DeviceID != "" {
		t.Fatalf("opted-out trading login: %+v %v", st, err)
	}
	st, err = start(sls.PlatformPortal, "192.0.2.1")
	if err != nil || st.State != sls.LoginChallenged {
		t.Fatalf("opted-out portal login must still ask the card: %+v %v", st, err)
	}
	// An opted-out user's penny-stock permission needs IP restrictions.
	dsess := session(u, sls.KindDSCPlus, d.ID)
	if _, err := e.svc.SetPennyStock(ctx, dsess, u, true); condOf(err) != CondIPRestrictionsRequired {
		t.Fatalf("penny stock without IP restrictions: %v", err)
	}
	if _, err := e.svc.SetIPRestrictions(ctx, "user:"+u.ID, u.Username, []string{"203.0.113.0/24", "2001:db8:1::/48"}, "198.51.100.9"); err != nil {
		t.Fatal(err)
	}
	ps, err := e.svc.SetPennyStock(ctx, dsess, e.reload(u), true)
	if err != nil || !ps.Effective {
		t.Fatalf("penny stock with IP restrictions: %+v %v", ps, err)
	}
	cases := []struct {
		platform sls.Platform
		ip       string
		code     string
	}{
		{sls.PlatformTrading, "203.0.113.77", ""},
		{sls.PlatformTrading, "::ffff:203.0.113.77", ""}, // dual-stack listener
		{sls.PlatformTrading, "2001:db8:1::42", ""},
		// Refused, but not as ip_not_allowed: that would confirm the
		// password to whoever typed it (the refusal is audited).
		{sls.PlatformTrading, "198.51.100.9", "invalid_credentials"},
		{sls.PlatformTrading, "2001:db8:2::1", "invalid_credentials"},
		{sls.PlatformTrading, "not-an-ip", "invalid_credentials"},
		{sls.PlatformPortal, "198.51.100.9", ""}, // restrictions are for trading platforms
	}
	for _, c := range cases {
		_, err := start(c.platform, c.ip)
		if codeOf(err) != c.code {
			t.Errorf("%s from %s: %v, want %q", c.platform, c.ip, err, c.code)
		}
	}
	var refused int
	for _, ev := range e.auditEvents() {
		if strings.HasPrefix(ev, sls.EventLoginRefused) && strings.Contains(ev, `"reason":"ip_not_allowed"`) {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("%d refusals audited, want 3", refused)
	}
	// The DSC+ still works for a trading login from an allowed address
	// after opting back in.
	if _, err := e.svc.SetParticipation(ctx, dsess, u, "", false); err != nil {
		t.Fatal(err)
	}
	st, err = start(sls.PlatformTrading, "203.0.113.5")
	if err != nil || st.State != sls.LoginChallenged {
		t.Fatalf("opted in again: %+v %v", st, err)
	}
	resp, _ := dscplus.Respond(key, "2468", st.Prompt.Challenge)
	if done, err := ls.Answer(ctx, st.LoginID, resp); err != nil || done.Session == nil {
		t.Fatalf("answer: %+v %v", done, err)
	}
	// Clearing the restrictions of an opted-out user suspends the
	// permission rather than leaving it in force.
	if _, err := e.svc.SetParticipation(ctx, dsess, u, "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetIPRestrictions(ctx, "operator:support", u.Username, nil, ""); err != nil {
		t.Fatal(err)
	}
	ps, _ = e.svc.PennyStockOf(ctx, u.ID)
	if !ps.Requested || ps.Effective || ps.Condition != CondIPRestrictionsRequired {
		t.Fatalf("penny stock after clearing restrictions: %+v", ps)
	}
	if st, err := start(sls.PlatformTrading, "198.51.100.9"); err != nil || st.Session == nil {
		t.Fatalf("no restrictions any more: %+v %v", st, err)
	}
}

func TestIPRestrictionInput(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("H1", "US")
	u := e.user("hugo", "H1")
	for _, c := range []struct {
		in   []string
		want []string
		code string
	}{
		{[]string{" 203.0.113.7 ", "2001:db8::1", "::ffff:198.51.100.0/120", "203.0.113.7"}, []string{"203.0.113.7/32", "2001:db8::1/128", "198.51.100.0/24"}, ""},
		{[]string{"0.0.0.0/0"}, nil, "invalid_argument"},
		{[]string{"10.1.2.3/8"}, nil, "invalid_argument"},
		{[]string{"fe80::1%eth0"}, nil, "invalid_argument"},
		{[]string{"example.com"}, nil, "invalid_argument"},
		{[]string{}, []string{}, ""},
	} {
		a, err := e.svc.SetIPRestrictions(ctx, "user:"+u.ID, u.Username, c.in, "203.0.113.7")
		if codeOf(err) != c.code {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if err == nil && !slices.Equal(a.IPRestrictions, c.want) {
			t.Errorf("%q stored as %q, want %q", c.in, a.IPRestrictions, c.want)
		}
		if err == nil && !*a.CurrentIPAllowed {
			t.Errorf("%q: the current address is reported refused", c.in)
		}
	}
}
