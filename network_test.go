package sls_test

import (
	"testing"

	sls "github.com/secure-login-system/sls"
)

func TestNetwork(t *testing.T) {
	for ip, want := range map[string]string{
		"198.51.100.23": "198.51.100.0/24", "::ffff:198.51.100.23": "198.51.100.0/24",
		"2001:db8:1234:5678::1": "2001:db8:1234::/48", "": "unknown", "not an address": "unknown",
	} {
		if got := sls.Network(ip); got != want {
			t.Errorf("Network(%q) = %q, want %q", ip, got, want)
		}
	}
}
