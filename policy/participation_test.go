package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/secure-login-system/sls"
)

func TestCanChangeBankingOrEmail(t *testing.T) {
	if err := CanChangeBankingOrEmail(true); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, CanChangeBankingOrEmail(false), sls.CodeNotEligible, CondNotInSLS)
}

func TestACHFundingAllowed(t *testing.T) {
	const K = 1000 * Dollar
	for _, tc := range []struct {
		name          string
		inSLS         bool
		funded, amt   int64
		code          sls.Code
		cond          string
		wantRemaining int64
	}{
		{"in SLS, far beyond", true, 500 * K, 1000 * K, "", "", 0},
		{"first funding within", false, 0, 20 * K, "", "", 0},
		{"reaches exactly 20,000", false, 15 * K, 5 * K, "", "", 0},
		{"one cent beyond", false, 15 * K, 5*K + 1, sls.CodeNotEligible, CondACHInitialLimit, 5 * K},
		{"already used up", false, 20 * K, 1, sls.CodeNotEligible, CondACHInitialLimit, 0},
		{"funded beyond before (data) ", false, 30 * K, 1, sls.CodeNotEligible, CondACHInitialLimit, 0},
		{"zero amount", true, 0, 0, sls.CodeInvalidArgument, "", 0},
		{"negative so far", false, -1, 1, sls.CodeInvalidArgument, "", 0},
	} {
		err := ACHFundingAllowed(tc.inSLS, tc.funded, tc.amt)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e := wantRefusal(t, err, tc.code, tc.cond)
		if tc.cond != "" && e.Detail["remaining"] != tc.wantRemaining {
			t.Errorf("%s: remaining = %v", tc.name, e.Detail["remaining"])
		}
	}
}

func TestCanOptOut(t *testing.T) {
	yes, no := Actor{HasSecurityPermission: true}, Actor{}
	for _, tc := range []struct {
		name         string
		actor        Actor
		jurisdiction string
		mandated     []string
		code         sls.Code
		cond         string
	}{
		{"US with permission", yes, "US", nil, "", ""},
		{"lower-case country", yes, "us", nil, "", ""},
		{"US without permission", no, "US", nil, sls.CodeForbidden, CondSecurityPermission},
		{"Hong Kong (default list)", yes, "HK", nil, sls.CodeNotEligible, CondJurisdictionMandates2FA},
		{"India (default list)", yes, "IN", nil, sls.CodeNotEligible, CondJurisdictionMandates2FA},
		{"india lower case", yes, " in ", nil, sls.CodeNotEligible, CondJurisdictionMandates2FA},
		{"mandate reported before permission", no, "HK", nil, sls.CodeNotEligible, CondJurisdictionMandates2FA},
		{"custom list adds SG", yes, "SG", []string{"HK", "IN", "sg"}, sls.CodeNotEligible, CondJurisdictionMandates2FA},
		{"custom list without HK", yes, "HK", []string{"IN"}, "", ""},
		{"empty non-nil list mandates nowhere", yes, "IN", []string{}, "", ""},
		{"garbage in the list is ignored", yes, "US", []string{"", "USA", "H"}, "", ""},
		{"unknown residence", yes, "", nil, sls.CodeInvalidArgument, CondJurisdictionUnknown},
		{"three letters", yes, "HKG", nil, sls.CodeInvalidArgument, CondJurisdictionUnknown},
		{"digits", yes, "1N", nil, sls.CodeInvalidArgument, CondJurisdictionUnknown},
	} {
		err := CanOptOut(tc.actor, tc.jurisdiction, tc.mandated)
		p, err2 := OptOut(tc.actor, tc.jurisdiction, tc.mandated)
		if tc.code == "" {
			if err != nil || err2 != nil {
				t.Errorf("%s: %v / %v", tc.name, err, err2)
			}
			if p != (Participation{OptedOut: true, Always2FA: false}) {
				t.Errorf("%s: OptOut = %+v", tc.name, p)
			}
			continue
		}
		wantRefusal(t, err, tc.code, tc.cond)
		wantRefusal(t, err2, tc.code, tc.cond)
		if p != (Participation{}) {
			t.Errorf("%s: participation with an error: %+v", tc.name, p)
		}
	}
	e := wantRefusal(t, CanOptOut(yes, "HK", nil), sls.CodeNotEligible, "")
	if !strings.Contains(e.Message, "HK") || e.Detail["jurisdiction"] != "HK" {
		t.Errorf("mandate refusal = %v", e)
	}
	if !slices.Equal(DefaultMandated2FA, []string{"HK", "IN"}) {
		t.Errorf("DefaultMandated2FA = %v", DefaultMandated2FA)
	}
}

func TestOptIn(t *testing.T) {
	p, err := OptIn(Actor{HasSecurityPermission: true})
	if err != nil || p != (Participation{OptedOut: false, Always2FA: true}) {
		t.Fatalf("OptIn = %+v, %v", p, err)
	}
	if err := CanOptIn(Actor{HasSecurityPermission: true}); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, CanOptIn(Actor{}), sls.CodeForbidden, CondSecurityPermission)
	_, err = OptIn(Actor{})
	wantRefusal(t, err, sls.CodeForbidden, CondSecurityPermission)
}

func TestPermissionRequired(t *testing.T) {
	for _, tc := range []struct {
		holders []string
		want    string
	}{
		{nil, "Only a user with the permission to change security settings can do this."},
		{[]string{"alice"}, "Only a user with the permission to change security settings can do this. This user has it: alice."},
		{[]string{"alice", "bob"}, "Only a user with the permission to change security settings can do this. These users have it: alice, bob."},
	} {
		e := PermissionRequired(tc.holders)
		if e.Code != sls.CodeForbidden || e.Message != tc.want || e.Detail[DetailCondition] != CondSecurityPermission {
			t.Errorf("PermissionRequired(%v) = %+v", tc.holders, e)
		}
		if h := e.Detail["holders"].([]string); !slices.Equal(h, tc.holders) && len(h)+len(tc.holders) > 0 {
			t.Errorf("holders = %v", h)
		}
	}
	in := []string{"alice"}
	e := PermissionRequired(in)
	in[0] = "mallory"
	if e.Detail["holders"].([]string)[0] != "alice" {
		t.Error("PermissionRequired keeps the caller's slice")
	}
}

func TestLoginRequires2FA(t *testing.T) {
	for _, tc := range []struct {
		platform string
		optedOut bool
		want     bool
	}{
		{PlatformPortal, false, true},
		{PlatformPortal, true, true},
		{PlatformTrading, false, true},
		{PlatformTrading, true, false},
		{"", true, true},
		{"Trading", true, true}, // unknown spelling: fail closed
		{"api", true, true},
	} {
		if got := LoginRequires2FA(tc.platform, tc.optedOut); got != tc.want {
			t.Errorf("LoginRequires2FA(%q, %v) = %v", tc.platform, tc.optedOut, got)
		}
	}
}

func TestPennyStockAllowed(t *testing.T) {
	for _, tc := range []struct{ optedOut, ip, want bool }{
		{false, false, true},
		{false, true, true},
		{true, false, false},
		{true, true, true},
	} {
		if got := PennyStockAllowed(tc.optedOut, tc.ip); got != tc.want {
			t.Errorf("PennyStockAllowed(%v, %v) = %v", tc.optedOut, tc.ip, got)
		}
	}
}
