package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseGood(t *testing.T) {
	f, err := Parse([]byte(`{"login": {"login_ttl": "2m", "max_failures": 20, "argon2": {"memory_kib": 65536, "iterations": 3, "parallelism": 2}}, "sms": {"x": 1}}`))
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
	if _, ok := f.Sections["sms"]; !ok {
		t.Fatal("sms section lost")
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
