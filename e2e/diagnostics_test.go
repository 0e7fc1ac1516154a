package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"mime/multipart"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// diagnosticsForm is a platform's upload from the login screen: a zip of
// logs, a screenshot, a reason and the username as typed.
func diagnosticsForm(t *testing.T, username string) (string, []byte) {
	t.Helper()
	var logs bytes.Buffer
	zw := zip.NewWriter(&logs)
	w, _ := zw.Create("tws/2026-12-05.log")
	w.Write([]byte(strings.Repeat("17:00:01 INFO market data farm connection is OK\n", 200)))
	zw.Close()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	f, _ := mw.CreateFormField("username")
	f.Write([]byte(username))
	f, _ = mw.CreateFormField("reason")
	f.Write([]byte("Charts freeze after login"))
	f, _ = mw.CreateFormFile("archive", "diagnostics.zip")
	f.Write(logs.Bytes())
	f, _ = mw.CreateFormFile("screenshot", "desktop.png")
	f.Write(tinyPNG(t))
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func tinyPNG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func uploadDiagnostics(t *testing.T, n *node, username string) apiResult {
	t.Helper()
	ct, body := diagnosticsForm(t, username)
	resp, err := client.New("", "").Send(context.Background(), "POST", n.url+"/api/v1/diagnostics", ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAnswer("POST", n.url+"/api/v1/diagnostics", resp.Status, resp.Header, resp.Body); err != nil {
		t.Error(err)
	}
	return resultOf(resp)
}

var refPattern = regexp.MustCompile(`^D-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

// TestDiagnosticsJourney: a platform uploads a bundle from the login
// screen without a session; the answer says to open a ticket at once.
// The client logs in to the portal and opens a ticket in the Message
// Center citing the reference (someone else's is refused without
// revealing it); an operator finds the bundle with slsctl, sees the
// ticket, downloads the bundle and closes it.
func TestDiagnosticsJourney(t *testing.T) {
	n, card := portalNode(t)
	setupUser(t, n, "bruno", "U7002")

	up := uploadDiagnostics(t, n, "  Alice ")
	ref := up.str("ref")
	if up.Status != 201 || !refPattern.MatchString(ref) {
		t.Fatalf("upload: %d %s", up.Status, up.Raw)
	}
	if msg := up.str("message"); !strings.Contains(msg, "Message Center ticket citing "+ref) || !strings.Contains(msg, "do not monitor") ||
		up.str("message_center") != "/messages" {
		t.Fatalf("answer: %s", up.Raw)
	}
	// Unknown username: the same answer, but for the reference.
	other := uploadDiagnostics(t, n, "nobody-such")
	if other.Status != 201 || other.str("message_center") != "/messages" || len(other.Body) != len(up.Body) {
		t.Fatalf("an unknown username answered differently: %d %s", other.Status, other.Raw)
	}
	brunos := uploadDiagnostics(t, n, "bruno").str("ref")
	// Hostile input is refused with a stable reason.
	bad := callWith(t, client.New("", ""), "POST", n.url+"/api/v1/diagnostics", "not multipart")
	if bad.Status != 400 {
		t.Fatalf("not multipart: %d %s", bad.Status, bad.Raw)
	}

	b := newBrowser(t, n.url, browserOpt{})
	b.dscLogin("alice", card, "2468")
	b.open("/messages?ref=" + strings.ToLower(brunos))
	b.expect("#ticket-form", "#subject", "#body", "#diagnostic_ref")
	b.fill("#subject", "Charts freeze")
	b.fillArea("#body", "The charts freeze after I log in; I uploaded a bundle.")
	b.submit("#ticket-send")
	refused := b.text("#page-error")
	if !strings.Contains(refused, "No diagnostic bundle with this reference") {
		t.Fatalf("someone else's reference: %q", refused)
	}
	b.fill("#diagnostic_ref", strings.ToLower(ref))
	b.shot("diagnostics-01-ticket-form")
	b.submit("#ticket-send")
	if !strings.Contains(b.text(".notice"), "Client Services") {
		t.Fatalf("after sending: %s", b.dump())
	}
	if got := b.text("#tickets .ticket-ref"); got != ref {
		t.Fatalf("the ticket cites %q, want %s", got, ref)
	}
	b.shot("diagnostics-02-ticket-sent")
	b.checkAccessibility("the Message Center with a ticket")

	// The operator: list, show (with the ticket), download, close.
	list := n.mustCtl("", "diagnostics", "list")
	if !strings.Contains(list, ref) || !strings.Contains(list, `"alice"`) && !strings.Contains(list, "alice") || !strings.Contains(list, "ticket tkt_") {
		t.Fatalf("list: %s", list)
	}
	show := n.mustCtl("", "diagnostics", "show", strings.ToLower(ref))
	if !strings.Contains(show, "from the login screen") || !strings.Contains(show, "Ticket:      ticket tkt_") || !strings.Contains(show, "screenshot-1.png") {
		t.Fatalf("show: %s", show)
	}
	if s := n.mustCtl("", "diagnostics", "show", brunos); !strings.Contains(s, "no ticket") {
		t.Fatalf("bruno's bundle got a ticket: %s", s)
	}
	out := filepath.Join(t.TempDir(), "bundle.zip")
	n.mustCtl("", "diagnostics", "download", ref, "--out", out)
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if strings.Join(names, ",") != "metadata.json,logs.zip,screenshot-1.png" {
		t.Fatalf("bundle holds %v", names)
	}
	if closed := n.mustCtl("", "diagnostics", "close", ref); !strings.Contains(closed, "(closed)") {
		t.Fatalf("close: %s", closed)
	}
	if again, err := n.ctl("", "diagnostics", "close", ref); err == nil || !strings.Contains(again, "closed already") {
		t.Fatalf("closed twice: %v %s", err, again)
	}
	if open := n.mustCtl("", "diagnostics", "list"); strings.Contains(open, ref) {
		t.Fatalf("still open: %s", open)
	}
	if all := n.mustCtl("", "diagnostics", "list", "--state", "closed"); !strings.Contains(all, ref) {
		t.Fatalf("closed list: %s", all)
	}
	// Audited.
	trail := n.mustCtl("", "audit", "list", "--limit", "1000")
	for _, ev := range []string{"diagnostics.uploaded", "ticket.opened", "diagnostics.downloaded", "diagnostics.closed"} {
		if !strings.Contains(trail, ev) {
			t.Errorf("audit trail lacks %s", ev)
		}
	}
}

// sendDiagnostics posts a form with an optional session token.
func sendDiagnostics(t *testing.T, n *node, token, ct string, body []byte) apiResult {
	t.Helper()
	resp, err := client.New("", token).Send(context.Background(), "POST", n.url+"/api/v1/diagnostics", ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAnswer("POST", n.url+"/api/v1/diagnostics", resp.Status, resp.Header, resp.Body); err != nil {
		t.Error(err)
	}
	return resultOf(resp)
}

// storedBundles counts the bundle folders on the node's disk.
func storedBundles(t *testing.T, n *node) int {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(n.dataDir, "diagnostics"))
	k := 0
	for _, e := range entries {
		if refPattern.MatchString(e.Name()) {
			k++
		}
	}
	return k
}

// TestDiagnosticsAPI: on each database, an upload with a session is the
// session's user's whatever the form says; a bad token is refused; the
// API ticket cites one's own bundle and refuses another's exactly as an
// unknown one; an oversized upload, the per-username cap and the
// per-address limit are refused, storing nothing.
func TestDiagnosticsAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		cfg := filepath.Join(t.TempDir(), "sls.json")
		os.WriteFile(cfg, []byte(`{"diagnostics": {"max_per_username": 2, "max_archive_bytes": 65536}}`), 0o600)
		n := startNode(t, db, withArgs("--config", cfg))
		setupUser(t, n, "dora", "U7101")
		card := filepath.Join(t.TempDir(), "card.json")
		n.mustCtl("", "dscplus", "issue", "dora", "--pin", "2468", "--out", card)
		r := startLogin(t, n, "dora", "trading")
		done := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge")))
		token := done.str("session", "token")
		if token == "" {
			t.Fatalf("login: %s", done.Raw)
		}

		ct, body := diagnosticsForm(t, "somebody-else")
		if bad := sendDiagnostics(t, n, "not-a-token", ct, body); bad.Status != 401 {
			t.Fatalf("bad token: %d %s", bad.Status, bad.Raw)
		}
		mine := sendDiagnostics(t, n, token, ct, body) // 1 from this address
		if mine.Status != 201 {
			t.Fatalf("upload with a session: %d %s", mine.Status, mine.Raw)
		}
		if show := n.mustCtl("", "diagnostics", "show", mine.str("ref")); !strings.Contains(show, `username "dora" from a session`) {
			t.Fatalf("show: %s", show)
		}

		// Someone else's bundle, from the login screen.
		ct, body = diagnosticsForm(t, "carol")
		carols := sendDiagnostics(t, n, "", ct, body) // 2
		if carols.Status != 201 {
			t.Fatalf("carol: %s", carols.Raw)
		}
		ticket := func(ref string) apiResult {
			return call(t, "POST", n.url+"/api/v1/tickets", token, map[string]any{"subject": "Freeze", "body": "See my logs.", "diagnostic_ref": ref})
		}
		other, unknown := ticket(carols.str("ref")), ticket("D-0000-0000")
		if other.Status != 404 || !other.sameAs(unknown) {
			t.Fatalf("someone else's reference: %d %s; unknown: %s", other.Status, other.Raw, unknown.Raw)
		}
		if ok := ticket(mine.str("ref")); ok.Status != 201 || ok.str("diagnostic_ref") != mine.str("ref") {
			t.Fatalf("own reference: %d %s", ok.Status, ok.Raw)
		}
		if list := call(t, "GET", n.url+"/api/v1/tickets", token, nil); list.Status != 200 || !strings.Contains(string(list.Raw), mine.str("ref")) {
			t.Fatalf("tickets: %s", list.Raw)
		}

		// Per username: carol has one; the second passes, the third not.
		if again := sendDiagnostics(t, n, "", ct, body); again.Status != 201 { // 3
			t.Fatalf("carol's second: %s", again.Raw)
		}
		if capped := sendDiagnostics(t, n, "", ct, body); capped.Status != 429 || capped.str("error", "detail", "reason") != "too_many_uploads" { // 4
			t.Fatalf("carol's third: %d %s", capped.Status, capped.Raw)
		}
		// Oversized archive (the node's cap is 64 KiB).
		var big bytes.Buffer
		mw := multipart.NewWriter(&big)
		f, _ := mw.CreateFormField("username")
		f.Write([]byte("erin"))
		f, _ = mw.CreateFormFile("archive", "a.zip")
		f.Write(append([]byte("PK\x03\x04"), make([]byte, 70<<10)...))
		mw.Close()
		if tooBig := sendDiagnostics(t, n, "", mw.FormDataContentType(), big.Bytes()); tooBig.Status != 413 || tooBig.str("error", "detail", "reason") != "too_large" { // 5
			t.Fatalf("oversized: %d %s", tooBig.Status, tooBig.Raw)
		}
		// Per address: the default burst of 5 is spent.
		ct, body = diagnosticsForm(t, "frank")
		if flood := sendDiagnostics(t, n, "", ct, body); flood.Status != 429 || flood.code() != "rate_limited" || flood.Header.Get("Retry-After") == "" {
			t.Fatalf("flood: %d %s", flood.Status, flood.Raw)
		}
		if k := storedBundles(t, n); k != 3 {
			t.Fatalf("%d bundles on disk, want 3", k)
		}
		if incoming, _ := os.ReadDir(filepath.Join(n.dataDir, "diagnostics", ".incoming")); len(incoming) != 0 {
			t.Fatalf("refusals left %d temporary folders", len(incoming))
		}
		// One line per bundle, each starting with its reference (a
		// reference may hold "D-" again, as in D-CMRD-C65G).
		if all := n.mustCtl("", "diagnostics", "list", "--state", "all"); strings.Count("\n"+all, "\nD-") != 3 {
			t.Fatalf("list: %s", all)
		}

		// The operator routes themselves, each answer checked against
		// api/openapi.json.
		op := n.opToken()
		ref := mine.str("ref")
		if l := call(t, "GET", n.url+"/api/v1/ops/diagnostics?state=open", op, nil); l.Status != 200 || !strings.Contains(string(l.Raw), ref) {
			t.Fatalf("ops list: %d %s", l.Status, l.Raw)
		}
		if g := call(t, "GET", n.url+"/api/v1/ops/diagnostics/"+ref, op, nil); g.Status != 200 || g.str("ticket_id") == "" || g.str("username") != "dora" {
			t.Fatalf("ops show: %d %s", g.Status, g.Raw)
		}
		if g := call(t, "GET", n.url+"/api/v1/ops/diagnostics/D-0000-0000", op, nil); g.Status != 404 {
			t.Fatalf("ops show unknown: %d %s", g.Status, g.Raw)
		}
		if g := call(t, "GET", n.url+"/api/v1/ops/diagnostics/..%2f..%2fseal.key/bundle", op, nil); g.Status != 404 {
			t.Fatalf("a path for a reference: %d %s", g.Status, g.Raw)
		}
		if dl := call(t, "GET", n.url+"/api/v1/ops/diagnostics/"+ref+"/bundle", op, nil); dl.Status != 200 || dl.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("ops download: %d %s", dl.Status, dl.Header)
		}
		if c := call(t, "POST", n.url+"/api/v1/ops/diagnostics/"+ref+"/close", op, nil); c.Status != 200 || c.str("closed_by") == "" {
			t.Fatalf("ops close: %d %s", c.Status, c.Raw)
		}
		if c := call(t, "POST", n.url+"/api/v1/ops/diagnostics/"+ref+"/close", op, nil); c.Status != 409 {
			t.Fatalf("ops close twice: %d %s", c.Status, c.Raw)
		}
		// A client's session is no operator's.
		if c := call(t, "GET", n.url+"/api/v1/ops/diagnostics", token, nil); c.Status != 401 && c.Status != 403 {
			t.Fatalf("a client listed bundles: %d %s", c.Status, c.Raw)
		}
	})
}

// TestDiagnosticsRetentionAcrossNodes: two nodes on one PostgreSQL share
// the data folder; a bundle uploaded on one is downloaded from the other,
// and when the retention has passed the purge runs once, on one node,
// removing the folder and the row.
func TestDiagnosticsRetentionAcrossNodes(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	dir, clk := t.TempDir(), filepath.Join(t.TempDir(), "clock")
	setClock(t, clk, 0)
	a := startNode(t, dsn, withDataDir(dir), withClockFile(clk))
	b := startNode(t, dsn, withDataDir(dir), withClockFile(clk))
	up := uploadDiagnostics(t, a, "rita")
	ref := up.str("ref")
	if up.Status != 201 {
		t.Fatalf("upload: %s", up.Raw)
	}
	out := filepath.Join(t.TempDir(), "b.zip")
	b.mustCtl("", "diagnostics", "download", ref, "--out", out)
	if _, err := zip.OpenReader(out); err != nil {
		t.Fatalf("downloaded from the other node: %v", err)
	}

	setClock(t, clk, 31*24*time.Hour)
	deadline := time.Now().Add(20 * time.Second)
	for storedBundles(t, a) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the bundle outlived its retention")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		if _, err := b.ctl("", "diagnostics", "show", ref); err != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if s, err := b.ctl("", "diagnostics", "show", ref); err == nil || !strings.Contains(s, "not_found") && !strings.Contains(s, "No diagnostics bundle") {
		t.Fatalf("the row outlived its retention: %v %s", err, s)
	}
	trail := a.mustCtl("", "audit", "list", "--limit", "10000")
	if k := strings.Count(trail, "diagnostics.purged"); k != 1 {
		t.Fatalf("purged %d times:\n%s", k, trail)
	}
}

// TestDiagnosticsFromLoginScreen: the article's path in a browser. A
// client who is not logged in follows the login page's link, uploads the
// platform's logs and a screenshot, and is told the reference and to
// open a ticket; once logged in, the ticket cites it and the operator
// finds the bundle through the ticket.
func TestDiagnosticsFromLoginScreen(t *testing.T) {
	n, card := portalNode(t)
	dir := t.TempDir()
	var logs bytes.Buffer
	zw := zip.NewWriter(&logs)
	w, _ := zw.Create("platform/2026-12-05.log")
	w.Write([]byte(strings.Repeat("17:00:01 INFO order routed\n", 100)))
	zw.Close()
	archive, shot := filepath.Join(dir, "logs.zip"), filepath.Join(dir, "screen.png")
	if err := errors.Join(os.WriteFile(archive, logs.Bytes(), 0o600), os.WriteFile(shot, tinyPNG(t), 0o600)); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, n.url, browserOpt{})
	b.open("/login")
	b.submit("#diagnostics-link")
	// A screenshot given as the logs: refused by its content, the form
	// shown again with the reason.
	b.fill("#diag-username", "alice")
	b.fillArea("#diag-reason", "wrong file")
	b.do(chromedp.SetUploadFiles("#diag-logs", []string{shot}))
	b.submit("#diag-form button[type=submit]")
	if got := b.text("#page-error"); !strings.Contains(got, "archive") || b.location() != "/diagnostics" {
		t.Fatalf("a PNG as the logs archive: %q at %s", got, b.location())
	}
	b.expect("#diag-form", "#diag-username", "#diag-reason", "#diag-logs", "#diag-shots")
	b.fill("#diag-username", "alice")
	b.fillArea("#diag-reason", "The order ticket closes by itself.")
	b.do(chromedp.SetUploadFiles("#diag-logs", []string{archive}), chromedp.SetUploadFiles("#diag-shots", []string{shot}))
	b.shot("diagnostics-00-upload-form")
	b.submit("#diag-form button[type=submit]")
	ref := b.text("#diag-ref")
	if !refPattern.MatchString(ref) || !strings.Contains(b.text("#diag-done"), "Message Center ticket") {
		t.Fatalf("after the upload: %s", b.dump())
	}
	// Reload shows the same answer, and uploads nothing again.
	before := n.mustCtl("", "diagnostics", "list")
	b.do(chromedp.Reload())
	if b.text("#diag-ref") != ref || n.mustCtl("", "diagnostics", "list") != before {
		t.Fatal("reloading the answer page uploaded again or lost the reference")
	}
	// A forged form from another site: refused without the page's token.
	if r := callWith(t, client.New("", ""), "POST", n.url+"/diagnostics", "x"); r.Status == 303 || r.Status == 201 {
		t.Errorf("an upload without the CSRF token: %d", r.Status)
	}

	b.dscLogin("alice", card, "2468")
	b.open("/messages?ref=" + ref)
	b.fill("#subject", "Order ticket closes")
	b.fillArea("#body", "See the bundle I uploaded from the login screen.")
	b.submit("#ticket-send")
	if got := b.text("#tickets .ticket-ref"); got != ref {
		t.Fatalf("the ticket cites %q, want %s", got, ref)
	}
	show := n.mustCtl("", "diagnostics", "show", ref)
	if !strings.Contains(show, "from the login screen") || !strings.Contains(show, "ticket tkt_") || !strings.Contains(show, "screenshot-1.png") {
		t.Fatalf("the operator's view: %s", show)
	}
}
