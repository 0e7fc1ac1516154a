package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A closed account keeps "view and print your activity statements and
// tax forms" (SPEC §6): the documents delivered into its folder, listed
// in the portal and the API for the statements-only session, and nothing
// of anyone else's.

// minimalPDF is a one-page PDF Chromium's viewer opens.
const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// getDocument fetches a document as the API's client would.
func getDocument(t *testing.T, n *node, token, id string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.url+"/api/v1/statements/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestClosedAccountStatements(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		setupUser(t, n, "carol", "U7000001")
		setupUser(t, n, "dave", "U7000002")
		dir := t.TempDir()
		write := func(name, body string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		// The Reporting Integration Team delivers with the existing
		// commands, naming the type.
		n.mustCtl("", "sftp", "register", "carol-docs", "--user", "carol") // a folder for the portal only
		n.mustCtl("", "sftp", "register", "dave-docs", "--user", "dave", "--ftp", "--allow", "127.0.0.2")
		n.mustCtl("", "statement", "deliver", "--to", "carol-docs", write("U7000001_2026-11.pdf", minimalPDF))
		out := n.mustCtl("", "statement", "deliver", "--to", "carol-docs", "--type", "tax_form", write("1099-2025.pdf", minimalPDF))
		if !strings.Contains(out, "delivered tax_form 1099-2025.pdf") {
			t.Errorf("deliver --type tax_form: %s", out)
		}
		n.mustCtl("", "statement", "deliver", "--to", "dave-docs", write("U7000002_2026-11.pdf", "%PDF-1.4 dave's\n"))
		if out, err := n.ctl("", "statement", "deliver", "--to", "carol-docs", "--type", "bank_secret", write("x.pdf", "x")); err == nil {
			t.Errorf("an unknown document type was accepted: %s", out)
		}

		out = n.mustCtl("", "close-account", "U7000001", "--reason", "client request")
		if !strings.Contains(out, "closed") {
			t.Fatalf("close: %s", out)
		}

		// The API: the password alone gives the statements-only scope,
		// which lists and serves carol's documents and nothing else.
		r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "carol", "password": pw, "platform": "portal"})
		if r.str("session", "session", "scope") != "statements_only" {
			t.Fatalf("login after closure: %s", r.Raw)
		}
		closed := r.str("session", "token")
		list := call(t, "GET", n.url+"/api/v1/statements", closed, nil)
		if list.Status != 200 || list.str("documents", "0", "name") != "1099-2025.pdf" || list.str("documents", "0", "type") != "tax_form" ||
			list.str("documents", "1", "name") != "U7000001_2026-11.pdf" || list.str("documents", "1", "type") != "statement" ||
			strings.Contains(string(list.Raw), "U7000002") {
			t.Fatalf("closed account's documents: %s", list.Raw)
		}
		id := list.str("documents", "1", "id")
		status, h, body := getDocument(t, n, closed, id)
		if status != 200 || body != minimalPDF || h.Get("Content-Type") != "application/pdf" ||
			!strings.HasPrefix(h.Get("Content-Disposition"), "inline") || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("statement: %d %v %q", status, h, body)
		}
		// Dave's document, by its real id: not found, like an unknown one.
		_, dt := onlineCardSession(t, n, "dave")
		daveID := call(t, "GET", n.url+"/api/v1/statements", dt, nil).str("documents", "0", "id")
		if status, _, body := getDocument(t, n, closed, daveID); status != 404 || strings.Contains(body, "dave") {
			t.Errorf("another user's document: %d %s", status, body)
		}
		if status, _, _ := getDocument(t, n, closed, "doc_nonexistent"); status != 404 {
			t.Errorf("unknown document: %d", status)
		}
		if status, _, body := getDocument(t, n, dt, daveID); status != 200 || !strings.Contains(body, "dave's") {
			t.Errorf("a full session reads its own document: %d %s", status, body)
		}
		// Nothing else in the statements-only scope.
		for _, p := range []string{"/api/v1/devices", "/api/v1/withdrawals/limits", "/api/v1/sessions"} {
			if r := call(t, "GET", n.url+p, closed, nil); r.Status != 403 {
				t.Errorf("%s with a closed account's session: %d", p, r.Status)
			}
		}

		// The portal in Chromium: the password alone, the home page's
		// link, the list, the PDF itself.
		b := newBrowser(t, n.url, browserOpt{})
		b.passwordStep("carol")
		b.expect("#closed-statements")
		b.submit("#closed-statements")
		if got := b.text("main"); !strings.Contains(got, "Tax forms") || !strings.Contains(got, "1099-2025.pdf") ||
			!strings.Contains(got, "Activity statements") || !strings.Contains(got, "U7000001_2026-11.pdf") || strings.Contains(got, "U7000002") {
			t.Fatalf("statements page:\n%s", got)
		}
		b.shot("closed-account-statements")
		// The download as the page's own request (same cookies).
		fetched, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const x = new XMLHttpRequest();
			x.open("GET", "/statements/`+id+`?download=1", false); x.send(); return x.status + " " + x.responseText })()`))
		if err != nil || fetched != "200 "+minimalPDF {
			t.Errorf("the portal's download: %q, %v", fetched, err)
		}
		b.open("/statements/" + daveID)
		if got := b.text("main"); !strings.Contains(got, "no such document") && !strings.Contains(strings.ToLower(got), "not found") {
			t.Errorf("another user's document in the portal:\n%s", got)
		}
		// Other pages stay closed to this session.
		b.open("/settings/security")
		if got := b.text("main"); strings.Contains(got, "Security Code Card") {
			t.Errorf("security settings reached with a closed account:\n%s", got)
		}
	})
}
