package oidcprovider

import (
	"slices"
	"testing"

	sls "github.com/secure-login-system/sls"
)

func TestACRFor(t *testing.T) {
	dsc, ibk := ACRDevicePrefix+"dscplus", ACRDevicePrefix+"ibkey"
	for _, tc := range []struct {
		requested []string
		kind      sls.DeviceKind
		want      string
	}{
		{nil, sls.KindDSCPlus, dsc},
		{nil, "", ACRPassword},
		{[]string{dsc, ibk}, sls.KindIBKey, ibk},
		{[]string{dsc, ibk}, sls.KindSMS, ""},
		{[]string{dsc, ibk}, "", ""},
		{[]string{ACRMFA}, sls.KindSMS, ACRMFA},
		{[]string{ACRMFA}, sls.KindTempPasscode, ""}, // a phone call is not a device
		{[]string{ACRMFA}, "", ""},
		{[]string{"urn:other", ACRPassword}, "", ACRPassword},
		{[]string{ACRDevicePrefix}, "", ""},
		{[]string{ACRDevicePrefix + "nonsense"}, sls.KindDSCPlus, ""},
	} {
		if got := ACRFor(tc.requested, tc.kind); got != tc.want {
			t.Errorf("ACRFor(%q, %q) = %q, want %q", tc.requested, tc.kind, got, tc.want)
		}
	}
}

func TestAMRFor(t *testing.T) {
	for _, tc := range []struct {
		kind     sls.DeviceKind
		password bool
		want     []string
	}{
		{sls.KindDSCPlus, true, []string{"pwd", "hwk", "otp", "pin", "mfa"}},
		{sls.KindSMS, true, []string{"pwd", "sms", "otp", "mfa"}},
		{"", true, []string{"pwd"}},
		{sls.KindPasskey, false, []string{"hwk", "user", "mfa"}},
		{sls.KindPasskey, true, []string{"pwd", "hwk", "user", "mfa"}},
	} {
		if got := AMRFor(tc.kind, tc.password); !slices.Equal(got, tc.want) {
			t.Errorf("AMRFor(%q, %v) = %q, want %q", tc.kind, tc.password, got, tc.want)
		}
	}
	for _, k := range sls.AllKinds {
		if len(amrOfKind[k]) == 0 {
			t.Errorf("kind %q has no amr values", k)
		}
	}
}
