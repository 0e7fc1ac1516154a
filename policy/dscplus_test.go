package policy

import (
	"fmt"
	"testing"

	"github.com/secure-login-system/sls"
)

func TestDSCPlusEligible(t *testing.T) {
	const M = 1_000_000 * Dollar
	for _, tc := range []struct {
		equity, threshold int64
		want              bool
	}{
		{M, 0, true},         // exactly the default threshold
		{M - 1, 0, false},    // one cent short
		{M - 1, -5, false},   // negative threshold means default
		{M / 2, M / 2, true}, // the older article's USD 500,000
		{M/2 - 1, M / 2, false},
		{0, 0, false},
		{-M, 0, false},
		{5 * M, M, true},
	} {
		if got := DSCPlusEligible(tc.equity, tc.threshold); got != tc.want {
			t.Errorf("DSCPlusEligible(%d, %d) = %v", tc.equity, tc.threshold, got)
		}
		err := CheckDSCPlusEligible(tc.equity, tc.threshold)
		if tc.want {
			if err != nil {
				t.Errorf("CheckDSCPlusEligible(%d, %d) = %v", tc.equity, tc.threshold, err)
			}
			continue
		}
		e := wantRefusal(t, err, sls.CodeNotEligible, CondEquityBelowThreshold)
		want := tc.threshold
		if want <= 0 {
			want = DefaultDSCPlusThreshold
		}
		if e.Detail["threshold"] != want {
			t.Errorf("threshold detail = %v", e.Detail["threshold"])
		}
	}
	if DefaultDSCPlusThreshold != 100_000_000 {
		t.Errorf("DefaultDSCPlusThreshold = %d cents", DefaultDSCPlusThreshold)
	}
}

func TestCheckPIN(t *testing.T) {
	for _, tc := range []struct {
		pin  string
		cond string
	}{
		{"4071", ""},
		{"1357", ""},
		{"1212", ""},
		{"0001", ""},
		{"8901", ""}, // wraps around: not a straight run
		{"0000", CondPINWeak},
		{"7777", CondPINWeak},
		{"1234", CondPINWeak},
		{"0123", CondPINWeak},
		{"6789", CondPINWeak},
		{"4321", CondPINWeak},
		{"9876", CondPINWeak},
		{"3210", CondPINWeak},
		{"", CondPINFormat},
		{"123", CondPINFormat},
		{"12345", CondPINFormat},
		{"12a4", CondPINFormat},
		{" 123", CondPINFormat},
		{"١٢٣٤", CondPINFormat}, // Arabic-Indic digits
		{"１２３４", CondPINFormat}, // full-width digits
	} {
		err := CheckPIN(tc.pin)
		if tc.cond == "" {
			if err != nil {
				t.Errorf("CheckPIN(%q) = %v", tc.pin, err)
			}
			continue
		}
		wantRefusal(t, err, sls.CodeInvalidArgument, tc.cond)
	}
	weak := 0
	for i := 0; i < 10000; i++ {
		if CheckPIN(fmt.Sprintf("%04d", i)) != nil {
			weak++
		}
	}
	if weak != 24 {
		t.Errorf("%d weak PINs, want 24 (10 repeated, 7 up, 7 down)", weak)
	}
}

// FuzzCheckPIN: never panics, and accepts only four ASCII digits.
func FuzzCheckPIN(f *testing.F) {
	for _, s := range []string{"4071", "0000", "1234", "", "12a4", "١٢٣٤", "99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pin string) {
		if CheckPIN(pin) != nil {
			return
		}
		if len(pin) != 4 {
			t.Fatalf("accepted %q", pin)
		}
		for i := 0; i < 4; i++ {
			if pin[i] < '0' || pin[i] > '9' {
				t.Fatalf("accepted %q", pin)
			}
		}
	})
}
