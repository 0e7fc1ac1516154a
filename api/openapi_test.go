package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/server"
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

// table is the server's declared route table: the routes the running
// server mounts, each with its access.
func table(t *testing.T) []httpapi.Route {
	t.Helper()
	srv, err := server.Open(context.Background(), server.Options{DataDir: t.TempDir(),
		Logger: slog.New(slog.DiscardHandler), SFTPListen: "127.0.0.1:0"}) // never the default port another process may hold
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Store.Close() })
	return srv.API.Routes()
}

func registered(t *testing.T) map[string]httpapi.Route {
	out := map[string]httpapi.Route{}
	for _, rt := range table(t) {
		out[strings.ToLower(rt.Method())+" "+rt.Path()] = rt
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
		if _, ok := reg[r]; !ok {
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
	// Each operation states who may call it, as the table declares it.
	for r, rt := range reg {
		method, path, _ := strings.Cut(r, " ")
		op := d.Paths[path][method]
		if op == nil {
			continue
		}
		if got, want := op["x-sls-access"], rt.Access.String(); got != want {
			t.Errorf("%s: x-sls-access is %q, the route table declares %q", r, got, want)
		}
	}
}

// TestErrorCodesDocumented keeps the error code list in step with the
// domain's codes.
func TestErrorCodesDocumented(t *testing.T) {
	raw, _ := os.ReadFile("openapi.json")
	for _, c := range []sls.Code{sls.CodeInvalidRequest, sls.CodeBodyTooLarge, sls.CodeInvalidArgument, sls.CodeNotFound, sls.CodeConflict,
		sls.CodeUnauthenticated, sls.CodeForbidden, sls.CodeInvalidCredentials, sls.CodeBadResponse, sls.CodeLocked, sls.CodeLoginExpired,
		sls.CodeLoginCompleted, sls.CodeTooManyAttempts, sls.CodeDeviceUnavailable, sls.CodeRateLimited, sls.CodeIPNotAllowed,
		sls.CodeLimitExceeded, sls.CodeNotEligible, sls.CodeActivationFailed, sls.CodeInternal, sls.CodeUnavailable, sls.CodeStepUpRequired,
		sls.CodeApprovalRequired} {
		if !strings.Contains(string(raw), `"`+string(c)+`"`) {
			t.Errorf("error code %s is not documented", c)
		}
	}
}
