package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/policy"
)

// A file with mistakes in several sections, and several in one, gets all
// of them back, each with its path.
func TestEveryProblemReported(t *testing.T) {
	_, err := Parse([]byte(`{
		"login": {"max_failures": 101, "login_ttl": "forever", "colour": "red"},
		"sftp": {"retention_days": 5000, "listen": 2222},
		"audit": {"streams": [{"name": "siem", "type": "carrier-pigeon"}]},
		"operators": {"dual_control": {"launch.missiles": false}},
		"nope": {}
	}`))
	var errs Errors
	if !errorsAs(err, &errs) {
		t.Fatalf("Parse = %v, want Errors", err)
	}
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	want := []string{"audit.streams[0].type", "login.colour", "login.login_ttl", "login.max_failures", "nope", "sftp.listen",
		"sftp.retention_days", "operators.dual_control.launch.missiles"}
	for _, p := range want {
		if !slices.Contains(paths, p) {
			t.Errorf("no problem reported at %s; got %v", p, paths)
		}
	}
	if !strings.Contains(err.Error(), "problems:") || strings.Count(err.Error(), "\n") < len(want) {
		t.Errorf("message lists one problem a line: %v", err)
	}

	_, err = Parse([]byte(`{
		"login": {"max_failures": -1, "max_answers": 99, "argon2": {"memory_kib": 64, "iterations": 2, "parallelism": 1}},
		"sftp": {"retention_days": 5000, "ciphers": ["aes128-ctr", "aes128-cbc"]},
		"audit": {"streams": [{"name": "siem", "type": "carrier-pigeon"}, {"name": "siem", "type": "syslog", "addr": "nohost"}]},
		"operators": {"dual_control": {"launch.missiles": false}},
		"portal": {"idle_timeout": "1s", "default_lang": "tlh"},
		"passkey": {"rp_id": "broker.example", "origins": ["https://evil.example"]}
	}`))
	errs = nil
	if !errorsAs(err, &errs) {
		t.Fatalf("Parse = %v, want Errors", err)
	}
	paths = nil
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	for _, p := range []string{"login.max_failures", "login.max_answers", "login.argon2", "sftp.retention_days", "sftp.ciphers",
		"audit.streams[0].type", "audit.streams[1].name", "audit.streams[1].addr", "operators.dual_control.launch.missiles",
		"portal.idle_timeout", "portal.default_lang", "passkey.origins[0]"} {
		if !slices.Contains(paths, p) {
			t.Errorf("no problem reported at %s; got %v", p, paths)
		}
	}
}

func errorsAs(err error, errs *Errors) bool {
	e, ok := err.(Errors)
	*errs = e
	return ok && len(e) > 0
}

// The example file holds every default: reading it gives the same rules
// as no file at all. docs/slsd.example.json is it (SLS_UPDATE_DOCS=1
// rewrites it).
func TestExampleIsTheDefaults(t *testing.T) {
	b := ExampleJSON()
	f, err := Parse(b)
	if err != nil {
		t.Fatalf("the example does not read: %v\n%s", err, b)
	}
	empty := &File{}
	for name, get := range map[string]func(*File) (any, error){
		"login":  func(f *File) (any, error) { return f.LoginConfig() },
		"limits": func(f *File) (any, error) { return f.LimitsConfig() },
		"devices": func(f *File) (any, error) {
			d, err := f.DevicesConfig()
			eff := map[sls.DeviceKind][3]int64{}
			for _, k := range sls.ConfigurableKinds {
				p, ok := d.Protection[k]
				if !ok {
					p = k.DefaultProtection()
				}
				l := d.Limits.For(k, true)
				eff[k] = [3]int64{int64(p), l.Day, l.FiveDay}
			}
			return eff, err
		},
		"sms":    func(f *File) (any, error) { return f.SMSRules() },
		"notify": func(f *File) (any, error) { c, err := f.NotifyConfig(); c.Channels = nil; return c, err },
		"ibkey":  func(f *File) (any, error) { return f.IBKeyConfig() },
		"policy": func(f *File) (any, error) {
			c, err := f.ProtectConfig()
			c = c.WithDefaults()
			if c.Mandated2FA == nil {
				c.Mandated2FA = policy.DefaultMandated2FA
			}
			c.DeviceLimits = nil // compared under devices
			return c, err
		},
		"lifecycle": func(f *File) (any, error) {
			c, err := f.LifecycleConfig()
			if c.ThresholdUSD <= 0 {
				c.ThresholdUSD = policy.DefaultDSCPlusThreshold
			}
			if c.DeliveryBusinessDays <= 0 {
				c.DeliveryBusinessDays = policy.DefaultDeliveryBusinessDays
			}
			if c.Notices == nil {
				c.Notices = policy.DefaultActivationNotices
			}
			if c.JobEvery == 0 {
				c.JobEvery = lifecycle.DefaultJobEvery
			}
			return c, err
		},
		"sftp":   func(f *File) (any, error) { return f.SFTPConfig() },
		"ftp":    func(f *File) (any, error) { return f.FTPConfig() },
		"portal": func(f *File) (any, error) { return f.PortalConfig() },
		"operators": func(f *File) (any, error) {
			c, err := f.OperatorsConfig()
			on := map[string]bool{}
			for _, a := range operators.Actions {
				v, set := c.DualControl[a]
				if !set {
					v = operators.DefaultDualControl[a]
				}
				on[a] = v
			}
			c.DualControl = on
			return c, err
		},
		"audit":   func(f *File) (any, error) { c, err := f.AuditConfig(); c.Streams = nil; return c, err },
		"seal":    func(f *File) (any, error) { return f.SealConfig() },
		"oidc":    func(f *File) (any, error) { return f.OIDCConfig() },
		"passkey": func(f *File) (any, error) { return f.PasskeyConfig() },
		"crypto":  func(f *File) (any, error) { return f.CryptoConfig() },
	} {
		got, err := get(f)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := get(empty)
		if !reflect.DeepEqual(normal(got), normal(want)) {
			t.Errorf("%s: the example gives\n%+v\nno file gives\n%+v", name, got, want)
		}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || len(top) != reflect.TypeFor[File]().NumField() {
		t.Fatalf("the example has %d sections, the schema %d", len(top), reflect.TypeFor[File]().NumField())
	}

	path := filepath.Join("..", "docs", "slsd.example.json")
	if os.Getenv("SLS_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if onDisk, err := os.ReadFile(path); err != nil || string(onDisk) != string(b) {
		t.Errorf("%s is not the example this build writes; run SLS_UPDATE_DOCS=1 go test ./config", path)
	}
}

// normal makes empty and nil maps and slices compare equal.
func normal(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	for _, empty := range []string{"{}", "[]"} {
		s = strings.ReplaceAll(s, ":"+empty, ":null")
	}
	return s
}

// Every key of the schema is explained in the docs: docs/configuration.md
// or the page of its feature, which configuration.md links.
func TestEveryKeyDocumented(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatal("no docs", err)
	}
	var doc []byte
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc = append(doc, b...)
	}
	for _, key := range schemaKeys(reflect.TypeFor[File](), "") {
		name := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(string(doc), "`"+name+"`") && !strings.Contains(string(doc), "."+name+"`") {
			t.Errorf("docs/configuration.md does not explain %s", key)
		}
	}
}

func schemaKeys(t reflect.Type, prefix string) []string {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return schemaKeys(t.Elem(), prefix)
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil
		}
		var out []string
		for i := range t.NumField() {
			name := jsonName(t.Field(i))
			if name == "" {
				continue
			}
			key := name
			if prefix != "" {
				key = prefix + "." + name
			}
			out = append(out, key)
			out = append(out, schemaKeys(t.Field(i).Type, key)...)
		}
		return out
	}
	return nil
}
