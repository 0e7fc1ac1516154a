package policy

import (
	"testing"
	"time"

	"github.com/secure-login-system/sls"
)

func TestTempPasscodeAccess(t *testing.T) {
	issued := time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		after time.Duration
		want  Access
	}{
		{-time.Nanosecond, AccessNone},
		{0, AccessFull},
		{day, AccessFull},
		{2*day - time.Nanosecond, AccessFull},
		{2 * day, AccessPortalOnlineCardOnly},
		{7 * day, AccessPortalOnlineCardOnly},
		{12*day - time.Nanosecond, AccessPortalOnlineCardOnly},
		{12 * day, AccessNone},
		{365 * day, AccessNone},
	} {
		if got := TempPasscodeAccess(issued, issued.Add(tc.after)); got != tc.want {
			t.Errorf("after %v: %s, want %s", tc.after, got, tc.want)
		}
	}
	if got := TempPasscodeExpiry(issued); !got.Equal(issued.Add(12 * day)) {
		t.Errorf("expiry %v", got)
	}
	for a, s := range map[Access]string{AccessNone: "none", AccessPortalOnlineCardOnly: "portal_online_card_only", AccessFull: "full"} {
		if a.String() != s {
			t.Errorf("%d.String() = %s", a, a.String())
		}
	}
	// Issued in New York just before the DST change: still 48 hours.
	nyIssued := at(2026, 3, 7, 9, 0)
	if TempPasscodeAccess(nyIssued, nyIssued.Add(48*time.Hour-1)) != AccessFull ||
		TempPasscodeAccess(nyIssued, nyIssued.Add(48*time.Hour)) != AccessPortalOnlineCardOnly {
		t.Error("DST changes the full-access period")
	}
}

func TestOnlineCardValidity(t *testing.T) {
	act := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{
		{-time.Second, false},
		{0, true},
		{21*24*time.Hour - 1, true},
		{21 * 24 * time.Hour, false},
	} {
		if got := OnlineCardValid(act, act.Add(tc.after)); got != tc.want {
			t.Errorf("after %v: %v", tc.after, got)
		}
	}
	if !OnlineCardExpiry(act).Equal(time.Date(2026, 5, 22, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("expiry %v", OnlineCardExpiry(act))
	}
}

func TestCanIssueTempPasscode(t *testing.T) {
	if err := CanIssueTempPasscode(false); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, CanIssueTempPasscode(true), sls.CodeNotEligible, CondTempPasscodeTwice)
}
