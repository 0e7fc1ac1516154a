package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMinor(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1500000": 150000000, "1,500,000.5": 150000050, "12.34": 1234} {
		if got, err := parseMinor(in); err != nil || got != want {
			t.Errorf("parseMinor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-5", "1.234", "abc", "1e6", ".5", "9999999999999999"} {
		if _, err := parseMinor(bad); err == nil {
			t.Errorf("parseMinor(%q) accepted", bad)
		}
	}
}

// TestExitCodes: help is not an error; usage mistakes, missing things,
// refusals and an unreachable server each have their code; --output json
// prints the server's answer.
func TestExitCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "/users/ghost"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"not_found","message":"No such user."}}`))
		case strings.Contains(r.URL.Path, "/users/vip"):
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"forbidden","message":"Not your role."}}`))
		default:
			w.Write([]byte(`{"devices":[{"id":"dev_1","kind":"totp","state":"active"}]}`))
		}
	}))
	defer srv.Close()
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("slsop_x\n"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, 0, "Global flags"},
		{[]string{"user", "--help"}, 0, "user create"},
		{[]string{"totp", "-h"}, 0, "totp issue"},
		{[]string{"completion", "bash"}, 0, "bash completion"},
		{[]string{"--version"}, 0, "slsctl"},
		{[]string{"no-such-command"}, 2, ""},
		{[]string{"--token-file", tok, "--server", srv.URL, "oidc", "client", "frobnicate"}, 2, ""},
		{[]string{"--token-file", tok, "--server", srv.URL, "devices", "ghost"}, 3, ""},
		{[]string{"--token-file", tok, "--server", srv.URL, "devices", "vip"}, 4, ""},
		{[]string{"--token-file", filepath.Join(t.TempDir(), "none"), "--server", srv.URL, "devices", "bob"}, 4, ""},
		{[]string{"--token-file", tok, "--server", "http://127.0.0.1:1", "devices", "bob"}, 5, ""},
		{[]string{"--token-file", tok, "--server", srv.URL, "--output", "json", "devices", "bob"}, 0, `"kind": "totp"`},
		{[]string{"--token-file", tok, "--server", srv.URL, "--output", "yaml", "devices", "bob"}, 2, ""},
	} {
		var out bytes.Buffer
		code, err := run(tc.args, strings.NewReader(""), &out)
		if code != tc.code || !strings.Contains(out.String(), tc.out) {
			t.Errorf("%v: exit %d (%v), want %d; output %q", tc.args, code, err, tc.code, out.String())
		}
	}
}
