package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/api/apitest"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/server"
)

// openServer starts the whole server in process on a fresh SQLite store,
// with the rate limits raised: the tests here send hundreds of requests
// from one address, and 429s are not what they look at.
func openServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	return openServerWith(t, `"operators": `+testOperators, nil)
}

// testOperators is the operators section of openServer: dual control off
// for every action (its own tests turn it on).
var testOperators = noDualControl()

func noDualControl() string {
	off := map[string]bool{}
	for _, a := range operators.Actions {
		off[a] = false
	}
	b, _ := json.Marshal(map[string]any{"dual_control": off})
	return string(b)
}

// openServerWith is openServer with other sections (JSON members: the
// operators section, with dual control on unless given) and options
// changed by opts (nil: none).
func openServerWith(t *testing.T, sections string, opts func(*server.Options)) (*server.Server, string) {
	t.Helper()
	cfgFile := filepath.Join(t.TempDir(), "sls.json")
	if err := os.WriteFile(cfgFile, []byte(`{"limits": {"operator_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
		"second_factor_per_user": {"rate": 100000, "per": "1m", "burst": 100000},
		"password_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
		"password_per_address_user": {"rate": 100000, "per": "1m", "burst": 100000},
		"sms_per_address": {"rate": 100000, "per": "1m", "burst": 100000}},
		"notify": {"sink": true},
		`+sections+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o := server.Options{DataDir: t.TempDir(), ConfigFile: cfgFile, Logger: slog.New(slog.DiscardHandler),
		SFTPListen: "127.0.0.1:0"} // never the default port another process may hold
	if opts != nil {
		opts(&o)
	}
	srv, err := server.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// Every API answer of the package's tests is checked against
	// api/openapi.json.
	web := httptest.NewServer(apitest.Handler(t, srv.Handler()))
	t.Cleanup(func() { web.Close(); srv.Store.Close() })
	return srv, web.URL
}

// operatorToken is the token of srv's tests' operator, who holds every
// role: the first call bootstraps that operator with the server's
// one-time secret.
func operatorToken(t *testing.T, srv *server.Server) string {
	t.Helper()
	opTokens.Lock()
	defer opTokens.Unlock()
	if tok, ok := opTokens.m[srv]; ok {
		return tok
	}
	secret, err := os.ReadFile(srv.BootstrapFile)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Operators.Bootstrap(context.Background(), strings.TrimSpace(string(secret)),
		operators.NewOperator{Name: "tester", Password: "the test operator passphrase", Roles: sls.AllRoles, PIN: "2468"}, srv.Opts.DataDir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	opTokens.m[srv] = tok.Token
	return tok.Token
}

var opTokens = struct {
	sync.Mutex
	m map[*server.Server]string
}{m: map[*server.Server]string{}}
