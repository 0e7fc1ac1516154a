package e2e

import (
	"database/sql"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

const pw = "Tr0ub4dor&3-horse"

// setupUser creates an account and a user with slsctl.
func setupUser(t *testing.T, n *node, username, account string) {
	t.Helper()
	n.mustCtl("", "account", "create", "--id", account, "--currency", "USD", "--equity", "2500000.00", "--jurisdiction", "US")
	out := n.mustCtl(pw+"\n", "user", "create", "--username", username, "--account", account, "--mobile", "+12015550123",
		"--dob", "1975-05-05", "--citizenship", "US", "--residence", "US", "--id-type", "passport", "--id-number", "P123")
	if !strings.Contains(out, "created") {
		t.Fatalf("user create: %s", out)
	}
}

// startLogin posts username and password.
func startLogin(t *testing.T, n *node, username, platform string) apiResult {
	t.Helper()
	r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": username, "password": pw, "platform": platform})
	if r.Status != 200 {
		t.Fatalf("login start: %d %s", r.Status, r.Raw)
	}
	return r
}

// chooseDevice selects the device of kind when the login offers several.
func chooseDevice(t *testing.T, n *node, r apiResult, kind string) apiResult {
	t.Helper()
	if r.str("state") == "challenged" && r.str("prompt", "kind") == kind {
		return r
	}
	devs, _ := r.Body["devices"].([]any)
	for _, d := range devs {
		m := d.(map[string]any)
		if m["kind"] == kind {
			c := call(t, "POST", n.url+"/api/v1/login/device", "", map[string]any{"login_id": r.str("login_id"), "device_id": m["id"]})
			if c.Status != 200 {
				t.Fatalf("select %s: %d %s", kind, c.Status, c.Raw)
			}
			return c
		}
	}
	t.Fatalf("no %s device offered: %s", kind, r.Raw)
	return r
}

func answer(t *testing.T, n *node, loginID, response string) apiResult {
	t.Helper()
	return call(t, "POST", n.url+"/api/v1/login/answer", "", map[string]any{"login_id": loginID, "response": response})
}

// dscRespond runs the DSC+ emulator as a script would.
func dscRespond(t *testing.T, card, pin, challenge string) string {
	t.Helper()
	out, err := exec.Command(bin["dsccard"], "--card", card, "--pin", pin, "--challenge", challenge).CombinedOutput()
	if err != nil {
		t.Fatalf("dsccard: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

var cardCell = regexp.MustCompile(`(\d+)\s+([A-Z0-9]{3})\b`)

// parseCard reads the values of a printed Security Code Card.
func parseCard(text string) map[string]string {
	vals := map[string]string{}
	for _, m := range cardCell.FindAllStringSubmatch(text, -1) {
		vals[m[1]] = m[2]
	}
	return vals
}

func TestFoundationJourney(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		setupUser(t, n, "alice", "U1001")
		card := filepath.Join(t.TempDir(), "card.json")
		out := n.mustCtl("", "dscplus", "issue", "alice", "--pin", "2468", "--serial", "DSC-0001", "--out", card)
		if !strings.Contains(out, "active") {
			t.Fatalf("dscplus issue: %s", out)
		}

		// DSC+ alone: the challenge comes at once.
		r := startLogin(t, n, "alice", "trading")
		if r.str("state") != "challenged" || len(r.str("prompt", "challenge")) != 6 {
			t.Fatalf("DSC+ challenge: %s", r.Raw)
		}
		resp := dscRespond(t, card, "2468", r.str("prompt", "challenge"))
		done := answer(t, n, r.str("login_id"), resp)
		if done.Status != 201 || done.str("session", "session", "device_kind") != "dscplus" {
			t.Fatalf("DSC+ answer: %d %s", done.Status, done.Raw)
		}
		token := done.str("session", "token")
		if s := call(t, "GET", n.url+"/api/v1/session", token, nil); s.Status != 200 || s.str("platform") != "trading" {
			t.Fatalf("session check: %s", s.Raw)
		}

		// Replay of the completed login is refused, also after a restart.
		if again := answer(t, n, r.str("login_id"), resp); again.code() != "login_completed" {
			t.Fatalf("replay: %s", again.Raw)
		}
		n.restart()
		if again := answer(t, n, r.str("login_id"), resp); again.code() != "login_completed" {
			t.Fatalf("replay after restart: %s", again.Raw)
		}
		if s := call(t, "GET", n.url+"/api/v1/session", token, nil); s.Status != 200 {
			t.Fatalf("session lost over restart: %s", s.Raw)
		}

		// Security Code Card: two index numbers, values typed back.
		cardText := n.codeCard("alice")
		values := parseCard(cardText)
		if len(values) != 50 {
			t.Fatalf("printed card has %d values:\n%s", len(values), cardText)
		}
		r = startLogin(t, n, "alice", "portal")
		if r.str("state") != "select_device" {
			t.Fatalf("two devices must be offered: %s", r.Raw)
		}
		c := chooseDevice(t, n, r, "codecard")
		ix := c.Body["prompt"].(map[string]any)["indices"].([]any)
		a, b := values[fmtNum(ix[0])], values[fmtNum(ix[1])]
		if done := answer(t, n, c.str("login_id"), a+" "+b); done.Status != 201 {
			t.Fatalf("code card answer: %s", done.Raw)
		}

		// Temporary passcode from Client Services.
		out = n.mustCtl("", "temppasscode", "issue", "alice", "--verified", "callback to number on file; agent 42; ref C-77")
		code := regexp.MustCompile(`: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(out)
		if code == nil {
			t.Fatalf("passcode: %s", out)
		}
		if out, err := n.ctl("", "temppasscode", "issue", "alice", "--verified", "again"); err == nil || !strings.Contains(out, "not_eligible") {
			t.Fatalf("second passcode in a row: %v %s", err, out)
		}
		r = startLogin(t, n, "alice", "portal")
		c = chooseDevice(t, n, r, "temppasscode")
		if done := answer(t, n, c.str("login_id"), code[1]); done.Status != 201 || done.str("session", "session", "scope") != "full" {
			t.Fatalf("temporary passcode answer: %s", done.Raw)
		}

		// Devices listed, suspended and resumed by the operator.
		list := n.mustCtl("", "devices", "alice")
		for _, k := range []string{"dscplus", "codecard", "temppasscode"} {
			if !strings.Contains(list, k) {
				t.Fatalf("devices list lacks %s:\n%s", k, list)
			}
		}

		// Audit chain verifies.
		if out := n.mustCtl("", "audit", "verify"); !strings.Contains(out, "audit trail OK") {
			t.Fatalf("audit verify: %s", out)
		}
	})
}

func fmtNum(v any) string {
	f, _ := v.(float64)
	return strings.TrimSuffix(strings.TrimSuffix(time.Duration(f).String(), "ns"), "s")
}

func TestLockoutAndUnlock(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		setupUser(t, n, "bob", "U2002")
		card := filepath.Join(t.TempDir(), "card.json")
		n.mustCtl("", "dscplus", "issue", "bob", "--pin", "1357", "--out", card)
		var last apiResult
		for i := 0; i < 10; i++ {
			r := startLogin(t, n, "bob", "portal")
			// A wrong PIN is a wrong answer: the card is useless without it.
			last = answer(t, n, r.str("login_id"), dscRespond(t, card, "9999", r.str("prompt", "challenge")))
			if i < 9 && last.code() != "bad_response" {
				t.Fatalf("failure %d: %s", i+1, last.Raw)
			}
		}
		if last.code() != "account_locked" || last.Status != 423 {
			t.Fatalf("10th failure: %d %s", last.Status, last.Raw)
		}
		// Locked: a stranger learns nothing (the right password answers
		// byte for byte as a wrong one).
		r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "bob", "password": pw, "platform": "portal"})
		w := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "bob", "password": "wrong-password", "platform": "portal"})
		if r.code() != "invalid_credentials" || !r.sameAs(w) {
			t.Fatalf("login while locked: %d %s / wrong password %d %s", r.Status, r.Raw, w.Status, w.Raw)
		}
		n.mustCtl("", "unlock", "bob")
		r = startLogin(t, n, "bob", "portal")
		if done := answer(t, n, r.str("login_id"), dscRespond(t, card, "1357", r.str("prompt", "challenge"))); done.Status != 201 {
			t.Fatalf("after unlock: %s", done.Raw)
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	n := startNode(t, "")
	setupUser(t, n, "carol", "U3003")
	card := filepath.Join(t.TempDir(), "card.json")
	n.mustCtl("", "dscplus", "issue", "carol", "--pin", "1591", "--out", card)
	cases := []struct {
		name, path, body, code string
		status                 int
	}{
		{"malformed JSON", "/api/v1/login", `{"username": "carol",`, "invalid_request", 400},
		{"unknown field", "/api/v1/login", `{"username": "carol", "password": "x", "admin": true}`, "invalid_request", 400},
		{"wrong type", "/api/v1/login", `{"username": 5, "password": "x"}`, "invalid_request", 400},
		{"two objects", "/api/v1/login", `{"username": "a"} {"username": "b"}`, "invalid_request", 400},
		{"empty body", "/api/v1/login", ``, "invalid_request", 400},
		{"oversized body", "/api/v1/login", `{"username": "` + strings.Repeat("a", 70000) + `"}`, "body_too_large", 413},
		{"bad platform", "/api/v1/login", `{"username": "carol", "password": "x", "platform": "fax"}`, "invalid_argument", 400},
		{"unknown login", "/api/v1/login/answer", `{"login_id": "login_nope", "response": "12345678"}`, "not_found", 404},
		{"unknown endpoint", "/api/v1/nothing", `{}`, "not_found", 404},
	}
	for _, c := range cases {
		r := call(t, "POST", n.url+c.path, "", c.body)
		if r.Status != c.status || r.code() != c.code || r.str("error", "message") == "" {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
		}
	}
	// Unknown device id within a real login.
	r := startLogin(t, n, "carol", "portal")
	bad := call(t, "POST", n.url+"/api/v1/login/device", "", map[string]any{"login_id": r.str("login_id"), "device_id": "dev_unknown"})
	if bad.code() != "not_found" {
		t.Errorf("unknown device: %s", bad.Raw)
	}
	// None of it counted as a failure or locked anything: the login still works.
	if done := answer(t, n, r.str("login_id"), dscRespond(t, card, "1591", r.str("prompt", "challenge"))); done.Status != 201 {
		t.Fatalf("login after bad input: %s", done.Raw)
	}
	// Operator API without a token.
	if r := call(t, "GET", n.url+"/api/v1/ops/audit", "", nil); r.code() != "unauthenticated" {
		t.Errorf("ops without token: %s", r.Raw)
	}
}

func TestExpiredLogin(t *testing.T) {
	clk := filepath.Join(t.TempDir(), "clock")
	n := startNode(t, "", withClockFile(clk))
	setupUser(t, n, "dan", "U4004")
	card := filepath.Join(t.TempDir(), "card.json")
	n.mustCtl("", "dscplus", "issue", "dan", "--pin", "2727", "--out", card)
	r := startLogin(t, n, "dan", "portal")
	setClock(t, clk, 4*time.Minute) // the DSC+ challenge lives 3 minutes
	done := answer(t, n, r.str("login_id"), dscRespond(t, card, "2727", r.str("prompt", "challenge")))
	if done.code() != "login_expired" || done.Status != 410 {
		t.Fatalf("late answer: %d %s", done.Status, done.Raw)
	}
}

func TestAuditTamperDetected(t *testing.T) {
	n := startNode(t, "")
	setupUser(t, n, "erin", "U5005")
	n.codeCard("erin")
	n.stop()
	// Someone with write access to the database file edits entry 3; the
	// append-only trigger must be dropped first, which is itself an attack.
	db, err := sql.Open("sqlite", filepath.Join(n.dataDir, "sls.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE audit_log SET detail = '{}' WHERE seq = 3"} {
		if _, err := db.Exec(q); err == nil {
			t.Fatal("the database let the audit trail change")
		}
	}
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET detail = '{\"forged\":true}' WHERE seq = 3"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	n.start()
	out, err := n.ctl("", "audit", "verify")
	if err == nil || !strings.Contains(out, "entry 3") {
		t.Fatalf("tampering not reported at entry 3: %v\n%s", err, out)
	}
}
