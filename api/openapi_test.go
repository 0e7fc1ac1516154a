// Package api holds the OpenAPI description of slsd's JSON API and a test
// that keeps it complete: every route registered in the Go sources must be
// documented, and every documented route must exist.
package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
)

type document struct {
	OpenAPI string                               `json:"openapi"`
	Paths   map[string]map[string]map[string]any `json:"paths"`
}

func load(t *testing.T) document {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var d document
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", d.OpenAPI)
	}
	return d
}

// route matches `"METHOD /api/v1/…"` patterns in handler registrations.
var route = regexp.MustCompile(`"(GET|POST|PUT|DELETE|PATCH) (/api/v1/[^"]*)"`)

func registered(t *testing.T) map[string]bool {
	out := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range route.FindAllStringSubmatch(string(b), -1) {
			out[strings.ToLower(m[1])+" "+m[2]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryRouteDocumented(t *testing.T) {
	d := load(t)
	documented := map[string]bool{}
	for p, methods := range d.Paths {
		for m := range methods {
			documented[m+" "+p] = true
		}
	}
	var missing, stale []string
	reg := registered(t)
	for r := range reg {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !reg[r] {
			stale = append(stale, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("routes not in api/openapi.json:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("documented routes that do not exist:\n  %s", strings.Join(stale, "\n  "))
	}
}

// TestErrorCodesDocumented keeps the error code list in step with the
// domain's codes.
func TestErrorCodesDocumented(t *testing.T) {
	raw, _ := os.ReadFile("openapi.json")
	for _, c := range []sls.Code{sls.CodeInvalidRequest, sls.CodeBodyTooLarge, sls.CodeInvalidArgument, sls.CodeNotFound, sls.CodeConflict,
		sls.CodeUnauthenticated, sls.CodeForbidden, sls.CodeInvalidCredentials, sls.CodeBadResponse, sls.CodeLocked, sls.CodeLoginExpired,
		sls.CodeLoginCompleted, sls.CodeTooManyAttempts, sls.CodeDeviceUnavailable, sls.CodeRateLimited, sls.CodeIPNotAllowed,
		sls.CodeLimitExceeded, sls.CodeNotEligible, sls.CodeActivationFailed, sls.CodeInternal, sls.CodeUnavailable} {
		if !strings.Contains(string(raw), `"`+string(c)+`"`) {
			t.Errorf("error code %s is not documented", c)
		}
	}
}
