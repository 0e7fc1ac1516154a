package server_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-login-system/sls/server"
)

// openServer starts the whole server in process on a fresh SQLite store,
// with the rate limits raised: the tests here send hundreds of requests
// from one address, and 429s are not what they look at.
func openServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	cfgFile := filepath.Join(t.TempDir(), "sls.json")
	if err := os.WriteFile(cfgFile, []byte(`{"limits": {"operator_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
		"second_factor_per_user": {"rate": 100000, "per": "1m", "burst": 100000},
		"password_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
		"password_per_address_user": {"rate": 100000, "per": "1m", "burst": 100000},
		"sms_per_address": {"rate": 100000, "per": "1m", "burst": 100000}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(context.Background(), server.Options{DataDir: t.TempDir(), ConfigFile: cfgFile, Logger: slog.New(slog.DiscardHandler),
		SFTPListen: "127.0.0.1:0"}) // never the default port another process may hold
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { web.Close(); srv.Store.Close() })
	return srv, web.URL
}

// operatorToken is an operator token of srv's tests' operator, who holds
// every role.
func operatorToken(t *testing.T, srv *server.Server) string {
	t.Helper()
	raw, err := os.ReadFile(srv.OperatorTokenFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}
