package config

import (
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

func TestParseGood(t *testing.T) {
	f, err := Parse([]byte(`{"login": {"login_ttl": "2m", "max_failures": 20, "argon2": {"memory_kib": 65536, "iterations": 3, "parallelism": 2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.LoginConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.LoginTTL != 2*time.Minute || c.MaxFailures != 20 || c.Argon.MemoryKiB != 65536 || c.MaxAnswers != 5 {
		t.Fatalf("config: %+v", c)
	}
}

func TestParseBad(t *testing.T) {
	for in, want := range map[string]string{
		``:                                    "not a JSON object",
		`[]`:                                  "not a JSON object",
		`{"login": {"max_failures": 101}}`:    "max_failures",
		`{"login": {"max_failures": "ten"}}`:  "max_failures",
		`{"login": {"login_ttl": 5}}`:         "duration",
		`{"login": {"login_ttl": "forever"}}`: "not a duration",
		`{"login": {"bogus": 1}}`:             "unknown field",
		`{"nope": {}}`:                        "unknown section",
		`{"login": {}} {}`:                    "trailing",
		`{"login": {"argon2": {"memory_kib": 64}}}`: "OWASP",
	} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v, want error containing %q", in, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"login": {"login_ttl": "2m"}}`))
	f.Add([]byte(`{"sms": {"resend_interval": "2m"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b)
		if err == nil {
			if _, err := cfg.LoginConfig(); err != nil {
				t.Fatalf("accepted file has invalid login rules: %v", err)
			}
		}
	})
}

func TestLimits(t *testing.T) {
	f, err := Parse([]byte(`{"limits": {"trusted_proxies": ["10.0.0.0/8", "192.0.2.1"], "password_per_address": {"rate": 100, "per": "1m", "burst": 50},
		"sms_per_address": {"rate": 0}, "hash_concurrency": 3, "hash_wait": "500ms"}}`))
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.LimitsConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Proxies) != 2 || l.HashSlots != 3 || l.HashQueue != 48 || l.HashWait != 500*time.Millisecond {
		t.Fatalf("limits: %+v", l)
	}
	if r := l.Rules["password_per_address"]; r.Rate != 100 || r.Per != time.Minute || r.Burst != 50 {
		t.Fatalf("password rule: %+v", r)
	}
	if l.Rules["sms_per_address"].Rate != 0 || l.Rules["password_per_address_user"].Rate != 5 {
		t.Fatalf("rules: %+v", l.Rules)
	}
	d, _ := (&File{}).LimitsConfig()
	if len(d.Proxies) != 0 || d.HashSlots < 1 || d.HashQueue != 16*d.HashSlots {
		t.Fatalf("defaults: %+v", d)
	}
	for in, want := range map[string]string{
		`{"limits": {"trusted_proxies": ["nope"]}}`:                      "trusted proxy",
		`{"limits": {"password_per_address": {"rate": 5}}}`:              "password_per_address",
		`{"limits": {"password_per_address": {"rate": 5, "per": "1m"}}}`: "burst",
		`{"limits": {"hash_concurrency": 100000}}`:                       "hash_concurrency",
		`{"limits": {"hash_queue": -1}}`:                                 "hash_queue",
		`{"limits": {"hash_wait": "1h"}}`:                                "hash_wait",
		`{"limits": {"bogus": 1}}`:                                       "unknown field",
		`{"limits": {"operator_per_address": {"rate": 1, "per": 60}}}`:   "duration",
	} {
		if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestDevicesSection(t *testing.T) {
	f, err := Parse([]byte(`{"devices": {"passkey": {"protection": 75, "day_limit_usd": 500000, "five_day_limit_usd": "unlimited"}, "totp": {"day_limit_usd": 1000}}}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.DevicesConfig()
	if err != nil {
		t.Fatal(err)
	}
	if d.Protection[sls.KindPasskey] != 75 || d.Limits[sls.KindPasskey] != [2]int64{500_000 * policy.Dollar, policy.Unlimited} {
		t.Errorf("passkey: %v %v", d.Protection, d.Limits)
	}
	if d.Limits[sls.KindTOTP] != [2]int64{1000 * policy.Dollar, 600_000 * policy.Dollar} {
		t.Errorf("totp keeps its five-day default: %v", d.Limits[sls.KindTOTP])
	}
	for _, bad := range []string{
		`{"devices": {"dscplus": {"protection": 10}}}`,
		`{"devices": {"passkey": {"protection": 100}}}`,
		`{"devices": {"passkey": {"day_limit_usd": -5}}}`,
		`{"devices": {"passkey": {"day_limit_usd": "lots"}}}`,
		`{"devices": {"totp": {"day_limit_usd": 700000}}}`,
		`{"devices": {"totp": {"colour": "red"}}}`,
	} {
		f, err := Parse([]byte(bad))
		if err == nil {
			_, err = f.DevicesConfig()
		}
		if err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// FuzzPassiveRange: any ftp.passive_ports text is refused or gives a
// range of unprivileged ports in order.
func FuzzPassiveRange(f *testing.F) {
	for _, s := range []string{"50000-50099", "1024-1024", "0-65535", "5-1", "a-b", "-", "", "70000-70001", " 50000 - 50010 ", "50000-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, ok := FTP{PassivePorts: s}.PassiveRange()
		if ok && (first < 1024 || last > 65535 || first > last) {
			t.Fatalf("%q gave %d-%d", s, first, last)
		}
	})
}
