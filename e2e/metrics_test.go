package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMetricsListener: with --metrics-listen the metrics are served on
// their own port and nowhere else; after a login they hold the login
// steps' and factor checks' histograms, the store's transactions and the
// pending-login gauge. Every answer carries a request id, which an error
// body repeats.
func TestMetricsListener(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "metrics.addr")
	n := startNode(t, "", withArgs("--metrics-listen", "127.0.0.1:0", "--metrics-addr-file", addrFile))
	setupUser(t, n, "mona", "U9101")
	onlineCardSession(t, n, "mona")

	if resp, err := http.Get(n.url + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the public listener: %v %v, want 404", resp, err)
	}
	raw, err := os.ReadFile(addrFile)
	if err != nil {
		t.Fatal(err)
	}
	text := scrape(t, "http://"+strings.TrimSpace(string(raw))+"/metrics")
	for _, series := range []string{
		`sls_login_step_duration_seconds_count{kind="",outcome="ok",step="password"}`,
		`sls_login_step_duration_seconds_count{kind="onlinecard",outcome="ok",step="answer"}`,
		`sls_factor_verify_duration_seconds_count{kind="onlinecard",result="ok"}`,
		`sls_store_tx_duration_seconds_count{engine="sqlite",mode="write",outcome="commit"}`,
		`sls_logins_pending`,
		`sls_ibkey_connected_apps`,
	} {
		v, ok := sample(text, series)
		if !ok {
			t.Errorf("no %s in the metrics", series)
		} else if strings.HasSuffix(series, "_count") && v < 1 {
			t.Errorf("%s = %v after a login", series, v)
		}
	}

	// The request id: on a success and on an error, where the body
	// repeats it for the client to quote.
	resp, err := http.Post(n.url+"/api/v1/login", "application/json", strings.NewReader(`{`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	if len(id) < 8 || !strings.Contains(string(body), `"request_id":"`+id+`"`) {
		t.Fatalf("malformed login: X-Request-Id %q, body %s", id, body)
	}
}

// scrape reads a metrics page.
func scrape(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// sample finds the value of one series (name and labels as exposed).
func sample(text, series string) (float64, bool) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + `(?:\{[^}]*\})? ([0-9.eE+-]+|NaN)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}
