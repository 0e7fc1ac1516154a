package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// guess is one password attempt's answer: status, code and Retry-After.
type guess struct {
	status int
	code   string
	retry  string
}

// guessFrom posts a login with password, through a forwarding header
// when xff is set.
func guessFrom(t *testing.T, n *node, username, password, xff string) guess {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"username": username, "password": password, "platform": "portal"})
	c := client.New(n.url, "")
	if xff != "" {
		c.Header = http.Header{"X-Forwarded-For": {xff}}
	}
	resp, err := c.Send(context.Background(), "POST", "/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAnswer("POST", "/api/v1/login", resp.Status, resp.Header, resp.Body); err != nil {
		t.Errorf("answer does not match the API document: %v", err)
	}
	r := resultOf(resp)
	return guess{r.Status, r.str("error", "code"), resp.Header.Get("Retry-After")}
}

func limitsConfig(t *testing.T, limits string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "limits.json")
	if err := os.WriteFile(p, []byte(`{"limits": `+limits+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// isLimited checks that g is a 429 rate_limited with a Retry-After of at
// least one second.
func isLimited(t *testing.T, g guess, what string) {
	t.Helper()
	secs, err := strconv.Atoi(g.retry)
	if g.status != http.StatusTooManyRequests || g.code != "rate_limited" || err != nil || secs < 1 {
		t.Fatalf("%s: got %d %s Retry-After %q, want 429 rate_limited with Retry-After", what, g.status, g.code, g.retry)
	}
}

// TestPasswordGuessesLimited: with the default limits, a guesser at one
// address gets 429 with Retry-After after five guesses at one user (per
// address and username), and after the address's burst across users.
func TestPasswordGuessesLimited(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db, withArgs("--config", limitsConfig(t, `{}`))) // the defaults
		setupUser(t, n, "olga", "U7101")
		for i := 0; i < 5; i++ {
			if g := guessFrom(t, n, "olga", "wrong-"+strconv.Itoa(i), ""); g.status != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d %s, want 401", i+1, g.status, g.code)
			}
		}
		g := guessFrom(t, n, "olga", "wrong-6", "")
		isLimited(t, g, "sixth guess at one user")
		if secs, _ := strconv.Atoi(g.retry); secs > 12 {
			t.Fatalf("Retry-After %d, want at most 12 s (5 a minute)", secs)
		}
		// Even the right password waits: the limit comes before the check.
		isLimited(t, guessFrom(t, n, "olga", pw, ""), "right password while limited")
		// Spraying other usernames from the same address hits the
		// per-address burst (10) soon after.
		limited := false
		for i := 0; i < 10 && !limited; i++ {
			g := guessFrom(t, n, "nobody"+strconv.Itoa(i), "wrong", "")
			limited = g.status == http.StatusTooManyRequests
			if limited {
				isLimited(t, g, "spray")
			}
		}
		if !limited {
			t.Fatal("20 guesses from one address in a moment were never limited")
		}
	})
}

// TestRateLimitSharedByNodes: two nodes on one PostgreSQL count one
// budget: guesses alternating between them are limited as if one node
// got them all.
func TestRateLimitSharedByNodes(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	dir := t.TempDir()
	cfg := limitsConfig(t, `{}`)
	a := startNode(t, dsn, withDataDir(dir), withArgs("--config", cfg))
	b := startNode(t, dsn, withDataDir(dir), withArgs("--config", cfg))
	setupUser(t, a, "pavel", "U7102")
	for i := 0; i < 5; i++ {
		n := []*node{a, b}[i%2]
		if g := guessFrom(t, n, "pavel", "wrong", ""); g.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s, want 401", i+1, g.status, g.code)
		}
	}
	isLimited(t, guessFrom(t, b, "pavel", "wrong", ""), "sixth guess, on node b")
	isLimited(t, guessFrom(t, a, "pavel", "wrong", ""), "seventh guess, on node a")
}

// TestTrustedProxy: behind a trusted proxy, each forwarded client address
// has its own budget; without the setting the header is ignored and a
// client cannot buy a fresh budget by writing one.
func TestTrustedProxy(t *testing.T) {
	const tight = `"password_per_address": {"rate": 3, "per": "1h", "burst": 3}`
	proxied := startNode(t, "", withArgs("--config", limitsConfig(t, `{"trusted_proxies": ["127.0.0.1/32"], `+tight+`}`)))
	direct := startNode(t, "", withArgs("--config", limitsConfig(t, `{`+tight+`}`)))
	for _, n := range []*node{proxied, direct} {
		setupUser(t, n, "quinn", "U7103")
	}
	for i := 0; i < 3; i++ {
		if g := guessFrom(t, proxied, "user"+strconv.Itoa(i), "wrong", "203.0.113.1"); g.status != http.StatusUnauthorized {
			t.Fatalf("proxied guess %d: %d %s", i+1, g.status, g.code)
		}
	}
	isLimited(t, guessFrom(t, proxied, "userx", "wrong", "203.0.113.1"), "fourth guess from 203.0.113.1")
	// A client of the proxy that writes its own X-Forwarded-For gets the
	// proxy's right-most entry, not its own.
	isLimited(t, guessFrom(t, proxied, "usery", "wrong", "198.51.100.9, 203.0.113.1"), "spoofed left-most entry")
	if g := guessFrom(t, proxied, "quinn", pw, "203.0.113.2"); g.status == http.StatusTooManyRequests {
		t.Fatalf("another forwarded address shares the budget: %d %s", g.status, g.code)
	}

	for i := 0; i < 3; i++ {
		if g := guessFrom(t, direct, "user"+strconv.Itoa(i), "wrong", "203.0.113."+strconv.Itoa(10+i)); g.status != http.StatusUnauthorized {
			t.Fatalf("direct guess %d: %d %s", i+1, g.status, g.code)
		}
	}
	isLimited(t, guessFrom(t, direct, "quinn", pw, "203.0.113.99"), "untrusted X-Forwarded-For")
}
