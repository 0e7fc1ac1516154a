package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/secure-login-system/sls/notify/webhook"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

const ibkPIN = "a1!b2"

// ibkUser is a client with a printed code card, which is how the tests
// reach the portal before IB Key exists.
type ibkUser struct {
	name string
	card map[string]string
}

func newIBKUser(t *testing.T, n *node, name, account string) *ibkUser {
	t.Helper()
	setupUser(t, n, name, account)
	card := parseCard(n.codeCard(name))
	if len(card) != 50 {
		t.Fatalf("code card of %s: %d values", name, len(card))
	}
	return &ibkUser{name: name, card: card}
}

// session logs in with the code card and returns the session token.
func (u *ibkUser) session(t *testing.T, n *node, platform string) string {
	t.Helper()
	r := chooseDevice(t, n, startLogin(t, n, u.name, platform), "codecard")
	ix := r.Body["prompt"].(map[string]any)["indices"].([]any)
	done := answer(t, n, r.str("login_id"), u.card[fmtNum(ix[0])]+" "+u.card[fmtNum(ix[1])])
	if done.Status != 201 {
		t.Fatalf("code card login of %s: %s", u.name, done.Raw)
	}
	return done.str("session", "token")
}

// ibk runs the authenticator app.
func ibk(t *testing.T, state, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin["ibkey"], append([]string{"--state", state}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func ibkMust(t *testing.T, state, stdin string, args ...string) string {
	t.Helper()
	out, err := ibk(t, state, stdin, args...)
	if err != nil {
		t.Fatalf("ibkey %v: %v\n%s", args, err, out)
	}
	return out
}

// ticket fetches the portal's activation ticket: the JSON and the PNG,
// whose QR code the test decodes itself.
func ibkTicket(t *testing.T, n *node, token string) (code, qrPayload, pngPath string) {
	t.Helper()
	r := call(t, "GET", n.url+"/api/v1/ibkey/ticket", token, nil)
	if r.Status != 200 || len(r.str("code")) != 24 || !strings.Contains(r.str("qr_text"), "█") {
		t.Fatalf("ticket: %d %s", r.Status, r.Raw)
	}
	req, _ := http.NewRequest("GET", n.url+"/api/v1/ibkey/ticket/qr.png", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := checkAnswer("GET", req.URL.String(), resp.StatusCode, resp.Header, raw); err != nil {
		t.Errorf("answer does not match the API document: %v", err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr png: %d %s", resp.StatusCode, raw)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// The detector misses a few clean codes in a thousand; the image is a
	// clean rendering, so a "pure barcode" read is the fallback.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		res, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	}
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	if want := "SLSIBKEY:" + strings.ReplaceAll(r.str("code"), "-", ""); res.GetText() != want || r.str("qr_payload") != want {
		t.Fatalf("QR holds %q, the string under it is %q", res.GetText(), r.str("code"))
	}
	pngPath = filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(pngPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return r.str("code"), res.GetText(), pngPath
}

// activate activates a user on a new instance from the portal's QR code.
func ibkActivateQR(t *testing.T, n *node, token, state, platform string) {
	t.Helper()
	_, _, pngPath := ibkTicket(t, n, token)
	out := ibkMust(t, state, ibkPIN+"\n", "activate", "--server", n.url, "--platform", platform, "--qr", pngPath, "--pin-stdin")
	if !strings.Contains(out, "SLS Key activated") {
		t.Fatalf("activate: %s", out)
	}
}

// ibkPushLogin starts a login and chooses IB Key.
func ibkPushLogin(t *testing.T, n *node, user, platform string) apiResult {
	t.Helper()
	r := chooseDevice(t, n, startLogin(t, n, user, platform), "ibkey")
	if r.str("prompt", "kind") != "ibkey" || len(r.str("prompt", "challenge")) != 6 {
		t.Fatalf("IB Key prompt: %s", r.Raw)
	}
	return r
}

func ibkWait(t *testing.T, n *node, loginID string, ms int) apiResult {
	t.Helper()
	return call(t, "POST", n.url+"/api/v1/login/wait", "", map[string]any{"login_id": loginID, "timeout_ms": ms})
}

// ibkListener is a running "ibkey listen --json".
type ibkListener struct {
	cmd    *exec.Cmd
	events chan map[string]any
	logs   *syncBuffer
}

func ibkStartListener(t *testing.T, state string, args ...string) *ibkListener {
	t.Helper()
	full := append([]string{"--state", state, "listen", "--json", "--pin-stdin"}, args...)
	cmd := exec.Command(bin["ibkey"], full...)
	cmd.Stdin = strings.NewReader(ibkPIN + "\n")
	l := &ibkListener{cmd: cmd, events: make(chan map[string]any, 100), logs: &syncBuffer{}}
	cmd.Stderr = l.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				l.events <- ev
			}
		}
		close(l.events)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	l.next(t, "connected", 10*time.Second)
	return l
}

// next waits for the next event of a type, skipping others.
func (l *ibkListener) next(t *testing.T, event string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-l.events:
			if !ok {
				t.Fatalf("ibkey listen ended waiting for %q: %s", event, l.logs.String())
			}
			if ev["event"] == event {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event from ibkey listen within %s", event, timeout)
		}
	}
}

// ibkNumbers is where the tests write the number the login screen shows,
// as the user would type it into the app.
type ibkNumbers string

func (f ibkNumbers) add(t *testing.T, pushID, number string) {
	t.Helper()
	fh, err := os.OpenFile(string(f), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(fh, "%s %s\n", pushID, number)
	fh.Close()
}

func ibkWrongNumber(n string) string {
	if n == "00" {
		return "01"
	}
	return "00"
}

func ibkAuditHas(t *testing.T, n *node, event string) bool {
	t.Helper()
	return strings.Contains(n.mustCtl("", "audit", "list", "--limit", "10000"), event)
}

func ibkConfig(t *testing.T, cfg string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sls.json")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIBKeyActivation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		clk := filepath.Join(t.TempDir(), "clock")
		n := startNode(t, db, withClockFile(clk))
		dir := t.TempDir()
		alice := newIBKUser(t, n, "alice", "U7001")
		tok := alice.session(t, n, "portal")

		// The same ticket is shown again to the same session until used.
		code1, _, pngPath := ibkTicket(t, n, tok)
		if code2, _, _ := ibkTicket(t, n, tok); code2 != code1 {
			t.Fatalf("ticket changed within the session: %s %s", code1, code2)
		}
		// A mistyped string is caught by the app before it reaches the server.
		typo := code1[:5] + string("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[(strings.IndexByte("0123456789ABCDEFGHJKMNPQRSTVWXYZ", code1[5])+1)%32]) + code1[6:]
		if out, err := ibk(t, filepath.Join(dir, "typo.json"), ibkPIN+"\n", "activate", "--server", n.url, "--code", typo, "--pin-stdin"); err == nil || !strings.Contains(out, "checksum") {
			t.Fatalf("mistyped string: %v %s", err, out)
		}
		// A PIN outside the Android rule is refused by the app.
		if out, err := ibk(t, filepath.Join(dir, "pin.json"), "12\n", "activate", "--server", n.url, "--qr", pngPath, "--pin-stdin"); err == nil || !strings.Contains(out, "4 to 6") {
			t.Fatalf("short PIN: %v %s", err, out)
		}

		// Activation by decoding the QR code.
		stA := filepath.Join(dir, "phoneA.json")
		out := ibkMust(t, stA, ibkPIN+"\n", "activate", "--server", n.url, "--qr", pngPath, "--pin-stdin")
		if !strings.Contains(out, "SLS Key activated for alice") {
			t.Fatalf("activate: %s", out)
		}
		if fi, err := os.Stat(stA); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("state file mode: %v %v", fi.Mode(), err)
		}
		raw, _ := os.ReadFile(stA)
		if bytes.Contains(raw, []byte(ibkPIN)) || bytes.Contains(raw, []byte("sign_pub")) {
			t.Fatal("the state file holds the PIN or the public key")
		}
		if !strings.Contains(n.mustCtl("", "devices", "alice"), "ibkey") {
			t.Fatal("no IB Key device for alice")
		}

		// Reusing the used ticket: the user sees the seed's message, the API a precise reason.
		out, err := ibk(t, filepath.Join(dir, "again.json"), ibkPIN+"\n", "activate", "--server", n.url, "--code", code1, "--pin-stdin")
		if err == nil || !strings.Contains(out, "An error has occurred. Please try again.") || !strings.Contains(out, "ticket_used") {
			t.Fatalf("reused ticket: %v %s", err, out)
		}
		r := call(t, "POST", n.url+"/api/v1/ibkey/activate", "", map[string]any{"code": code1, "platform": "android",
			"sign_pub": bytes.Repeat([]byte{1}, 32), "app_dh": bytes.Repeat([]byte{9}, 32)})
		if r.code() != "activation_failed" || r.str("error", "message") != "An error has occurred. Please try again." ||
			r.str("error", "detail", "reason") != "ticket_used" {
			t.Fatalf("reused ticket (API): %s", r.Raw)
		}

		// Already active on this instance: same message, reason already_active.
		code3, _, _ := ibkTicket(t, n, tok)
		if code3 == code1 {
			t.Fatal("a used ticket was shown again")
		}
		out, err = ibk(t, stA, ibkPIN+"\n", "add-user", "--code", code3, "--pin-stdin")
		if err == nil || !strings.Contains(out, "An error has occurred. Please try again.") || !strings.Contains(out, "already_active") {
			t.Fatalf("already active: %v %s", err, out)
		}

		// Activation by typing the string (any case, spaces for hyphens).
		bob := newIBKUser(t, n, "bob", "U7002")
		btok := bob.session(t, n, "portal")
		bcode, _, _ := ibkTicket(t, n, btok)
		typed := strings.ToLower(strings.ReplaceAll(bcode, "-", " "))
		out = ibkMust(t, filepath.Join(dir, "bob.json"), "iOS-unlock\n", "activate", "--server", n.url, "--platform", "ios", "--code", typed, "--pin-stdin")
		if !strings.Contains(out, "SLS Key activated for bob on this ios instance") {
			t.Fatalf("typed activation: %s", out)
		}

		// Expired ticket: valid at most 10 minutes.
		carol := newIBKUser(t, n, "carol", "U7003")
		ctok := carol.session(t, n, "portal")
		ccode, _, _ := ibkTicket(t, n, ctok)
		setClock(t, clk, 11*time.Minute)
		out, err = ibk(t, filepath.Join(dir, "carol.json"), ibkPIN+"\n", "activate", "--server", n.url, "--code", ccode, "--pin-stdin")
		if err == nil || !strings.Contains(out, "An error has occurred. Please try again.") || !strings.Contains(out, "ticket_expired") {
			t.Fatalf("expired ticket: %v %s", err, out)
		}

		// Logging out ends the ticket; logging in again gives a fresh one.
		ctok = carol.session(t, n, "portal")
		ccode2, _, _ := ibkTicket(t, n, ctok)
		if ccode2 == ccode {
			t.Fatal("same ticket after logging in again")
		}
		if r := call(t, "POST", n.url+"/api/v1/logout", ctok, nil); r.Status != 204 {
			t.Fatalf("logout: %s", r.Raw)
		}
		out, err = ibk(t, filepath.Join(dir, "carol.json"), ibkPIN+"\n", "activate", "--server", n.url, "--code", ccode2, "--pin-stdin")
		if err == nil || !strings.Contains(out, "session_ended") {
			t.Fatalf("ticket of an ended session: %v %s", err, out)
		}
		ctok = carol.session(t, n, "portal")
		ccode3, _, _ := ibkTicket(t, n, ctok)
		ibkMust(t, filepath.Join(dir, "carol.json"), ibkPIN+"\n", "activate", "--server", n.url, "--code", ccode3, "--pin-stdin")

		if !ibkAuditHas(t, n, "ibkey.activation_failed") || !ibkAuditHas(t, n, "ibkey.activated") {
			t.Fatal("activations not audited")
		}
		if out := n.mustCtl("", "audit", "verify"); !strings.Contains(out, "audit trail OK") {
			t.Fatalf("audit verify: %s", out)
		}
	})
}

func TestIBKeyPushAndChallenge(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		clk := filepath.Join(t.TempDir(), "clock")
		n := startNode(t, db, withClockFile(clk), withArgs("--config", ibkConfig(t, `{"ibkey": {"max_unanswered_pushes": 3}}`)))
		dir := t.TempDir()
		alice := newIBKUser(t, n, "alice", "U7101")
		st := filepath.Join(dir, "phone.json")
		ibkActivateQR(t, n, alice.session(t, n, "portal"), st, "android")
		nums := ibkNumbers(filepath.Join(dir, "numbers"))
		l := ibkStartListener(t, st, "--approve-number-from", string(nums))

		// Push approved with the right number: the waiting login page learns
		// it within a second, and completes the login.
		r := ibkPushLogin(t, n, "alice", "trading")
		pushID, number := r.str("prompt", "extra", "push_id"), r.str("prompt", "match_number")
		if r.str("prompt", "extra", "push") != "pending" || len(number) != 2 || pushID == "" {
			t.Fatalf("push prompt: %s", r.Raw)
		}
		ev := l.next(t, "push", 5*time.Second)
		if ev["push_id"] != pushID || ev["username"] != "alice" || ev["platform"] != "trading" || ev["client_ip"] != "127.0.0.1" {
			t.Fatalf("push event: %v", ev)
		}
		if _, leaked := ev["match_number"]; leaked {
			t.Fatal("the number to match reached the app")
		}
		start := time.Now()
		nums.add(t, pushID, number)
		w := ibkWait(t, n, r.str("login_id"), 10000)
		// "changed" is false when the app answered before the wait began
		// (a busy machine): what matters is that the approval is seen at once.
		if w.str("prompt", "extra", "push") != "approved" || time.Since(start) > time.Second {
			t.Fatalf("wait: %s after %s", w.Raw, time.Since(start))
		}
		if ev := l.next(t, "answered", 5*time.Second); ev["state"] != "approved" {
			t.Fatalf("answer: %v", ev)
		}
		done := answer(t, n, r.str("login_id"), "")
		if done.Status != 201 || done.str("session", "session", "device_kind") != "ibkey" {
			t.Fatalf("complete: %s", done.Raw)
		}
		var sess struct {
			Session struct {
				Session struct {
					CreatedAt time.Time `json:"created_at"`
					ExpiresAt time.Time `json:"expires_at"`
					Biometric bool      `json:"biometric"`
				}
			}
		}
		json.Unmarshal(done.Raw, &sess)
		if d := sess.Session.Session.ExpiresAt.Sub(sess.Session.Session.CreatedAt); d != 12*time.Hour || sess.Session.Session.Biometric {
			t.Fatalf("PIN access: %s biometric=%v", d, sess.Session.Session.Biometric)
		}

		// Wrong number: refused; the push ends; the login stays for challenge/response.
		r = ibkPushLogin(t, n, "alice", "portal")
		pushID, number = r.str("prompt", "extra", "push_id"), r.str("prompt", "match_number")
		l.next(t, "push", 5*time.Second)
		nums.add(t, pushID, ibkWrongNumber(number))
		if ev := l.next(t, "error", 5*time.Second); ev["reason"] != "wrong_number" || ev["code"] != "bad_response" {
			t.Fatalf("wrong number: %v", ev)
		}
		if w := ibkWait(t, n, r.str("login_id"), 3000); w.str("prompt", "extra", "push") != "rejected" {
			t.Fatalf("wait after wrong number: %s", w.Raw)
		}
		if done := answer(t, n, r.str("login_id"), ""); done.code() != "conflict" {
			t.Fatalf("rejected push completed the login: %s", done.Raw)
		}
		resp := strings.TrimSpace(ibkMust(t, st, ibkPIN+"\n", "respond", "--challenge", r.str("prompt", "challenge"), "--pin-stdin"))
		if done := answer(t, n, r.str("login_id"), resp); done.Status != 201 {
			t.Fatalf("challenge/response after a wrong number: %s", done.Raw)
		}
		l.cmd.Process.Kill()
		l.cmd.Wait()

		// Deny: the login ends; audited.
		ld := ibkStartListener(t, st, "--deny")
		r = ibkPushLogin(t, n, "alice", "portal")
		ld.next(t, "push", 5*time.Second)
		if ev := ld.next(t, "answered", 5*time.Second); ev["state"] != "denied" {
			t.Fatalf("deny: %v", ev)
		}
		if w := ibkWait(t, n, r.str("login_id"), 3000); w.str("state") != "failed" || w.str("prompt", "extra", "push") != "denied" {
			t.Fatalf("wait after deny: %s", w.Raw)
		}
		if done := answer(t, n, r.str("login_id"), ""); done.Status < 400 {
			t.Fatalf("denied login completed: %s", done.Raw)
		}
		if !ibkAuditHas(t, n, "ibkey.push_denied") {
			t.Fatal("denial not audited")
		}
		ld.cmd.Process.Kill()
		ld.cmd.Wait()

		// Unanswered: the push times out, the login page sees it, and
		// challenge/response still completes the login ("trading device"
		// answered from the "authentication device").
		li := ibkStartListener(t, st, "--ignore")
		r = ibkPushLogin(t, n, "alice", "trading")
		li.next(t, "push", 5*time.Second)
		setClock(t, clk, 3*time.Minute) // push_ttl 2m
		if w := ibkWait(t, n, r.str("login_id"), 5000); w.str("prompt", "extra", "push") != "expired" {
			t.Fatalf("unanswered push: %s", w.Raw)
		}
		li.next(t, "closed", 5*time.Second)
		resp = strings.TrimSpace(ibkMust(t, st, ibkPIN+"\n", "respond", "--challenge", r.str("prompt", "challenge"), "--pin-stdin"))
		if len(strings.ReplaceAll(resp, " ", "")) != 8 {
			t.Fatalf("response string %q", resp)
		}
		if done := answer(t, n, r.str("login_id"), resp); done.Status != 201 || done.str("session", "session", "platform") != "trading" {
			t.Fatalf("challenge/response: %s", done.Raw)
		}
		// A response is accepted once.
		r2 := ibkPushLogin(t, n, "alice", "portal")
		if bad := answer(t, n, r2.str("login_id"), "1234 5678"); bad.code() != "bad_response" {
			t.Fatalf("wrong response: %s", bad.Raw)
		}

		// Anti-fatigue: after 3 unapproved pushes in a row (superseded,
		// expired), no push is sent; challenge/response is required; audited.
		ibkPushLogin(t, n, "alice", "portal")     // supersedes r2's push: 1
		r = ibkPushLogin(t, n, "alice", "portal") // 2
		setClock(t, clk, 6*time.Minute)           // r's push expires: 3
		ibkWait(t, n, r.str("login_id"), 3000)
		r = ibkPushLogin(t, n, "alice", "portal")
		if r.str("prompt", "extra", "push") != "off" || r.str("prompt", "match_number") != "" {
			t.Fatalf("push after the flood limit: %s", r.Raw)
		}
		if !ibkAuditHas(t, n, "ibkey.push_flood") {
			t.Fatal("flood not audited")
		}
		resp = strings.TrimSpace(ibkMust(t, st, ibkPIN+"\n", "respond", "--challenge", r.str("prompt", "challenge"), "--pin-stdin"))
		if done := answer(t, n, r.str("login_id"), resp); done.Status != 201 {
			t.Fatalf("challenge/response when pushes are off: %s", done.Raw)
		}
		// A successful IB Key login resets the count: pushes resume.
		if r := ibkPushLogin(t, n, "alice", "portal"); r.str("prompt", "extra", "push") != "pending" {
			t.Fatalf("pushes did not resume: %s", r.Raw)
		}
		// At most one outstanding push per user.
		li.next(t, "push", 5*time.Second)
		out := ibkMust(t, st, "", "pushes")
		if strings.Count(out, "push_id") != 1 {
			t.Fatalf("outstanding pushes: %s", out)
		}
	})
}

// A copy of the state file without the PIN approves nothing and answers
// nothing, and every guess is counted by the server toward the lockout.
func TestIBKeyStolenStateFile(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db, withArgs("--config", ibkConfig(t, `{"login": {"max_failures": 3}}`)))
		dir := t.TempDir()
		alice := newIBKUser(t, n, "alice", "U7201")
		st := filepath.Join(dir, "phone.json")
		ibkActivateQR(t, n, alice.session(t, n, "portal"), st, "android")
		stolen := filepath.Join(dir, "stolen.json")
		raw, _ := os.ReadFile(st)
		os.WriteFile(stolen, raw, 0o600)

		// Guess 1: approving a push with a wrong PIN.
		r := ibkPushLogin(t, n, "alice", "portal")
		out, err := ibk(t, stolen, "0000\n", "approve", "--push", r.str("prompt", "extra", "push_id"), "--number", r.str("prompt", "match_number"), "--pin-stdin")
		if err == nil || !strings.Contains(out, "bad_response") || !strings.Contains(out, "bad_unlock") {
			t.Fatalf("approval with a wrong PIN: %v %s", err, out)
		}
		if w := ibkWait(t, n, r.str("login_id"), 500); w.str("prompt", "extra", "push") != "pending" {
			t.Fatalf("push after a bad unlock: %s", w.Raw)
		}
		// Guess 2: a response computed with a wrong PIN.
		resp := strings.TrimSpace(ibkMust(t, stolen, "1111\n", "respond", "--challenge", r.str("prompt", "challenge"), "--pin-stdin"))
		if bad := answer(t, n, r.str("login_id"), resp); bad.code() != "bad_response" {
			t.Fatalf("response with a wrong PIN: %s", bad.Raw)
		}
		// Guess 3 locks the user.
		out, err = ibk(t, stolen, "9999\n", "deny", "--push", r.str("prompt", "extra", "push_id"), "--pin-stdin")
		if err == nil || !strings.Contains(out, "account_locked") {
			t.Fatalf("third guess: %v %s", err, out)
		}
		if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "alice", "password": pw}); r.code() != "invalid_credentials" {
			t.Fatalf("not locked after three PIN guesses (a locked user's right password looks wrong): %s", r.Raw)
		}
		n.mustCtl("", "unlock", "alice")
		// With the PIN, the same file works.
		r = ibkPushLogin(t, n, "alice", "portal")
		resp = strings.TrimSpace(ibkMust(t, st, ibkPIN+"\n", "respond", "--challenge", r.str("prompt", "challenge"), "--pin-stdin"))
		if done := answer(t, n, r.str("login_id"), resp); done.Status != 201 {
			t.Fatalf("with the PIN: %s", done.Raw)
		}
		if !ibkAuditHas(t, n, "ibkey.bad_unlock") {
			t.Fatal("bad unlock not audited")
		}
	})
}

func TestIBKeyAddUserAndMigration(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		dir := t.TempDir()
		alice := newIBKUser(t, n, "alice", "U7301")
		stA := filepath.Join(dir, "phoneA.json")
		ibkActivateQR(t, n, alice.session(t, n, "portal"), stA, "android")

		// (a) Add User with bob's QR, confirmed with the instance's PIN.
		bob := newIBKUser(t, n, "bob", "U7302")
		btok := bob.session(t, n, "portal")
		_, _, bpng := ibkTicket(t, n, btok)
		out, err := ibk(t, stA, "zzzz\n", "add-user", "--qr", bpng, "--pin-stdin")
		if err == nil || !strings.Contains(out, "bad_unlock") {
			t.Fatalf("add user with a wrong PIN: %v %s", err, out)
		}
		_, _, bpng = ibkTicket(t, n, btok) // that ticket was used: a fresh one
		out = ibkMust(t, stA, ibkPIN+"\n", "add-user", "--qr", bpng, "--pin-stdin")
		if !strings.Contains(out, "SLS Key activated for bob") {
			t.Fatalf("add user: %s", out)
		}
		if users := ibkMust(t, stA, "", "users"); !strings.Contains(users, "alice") || !strings.Contains(users, "bob") {
			t.Fatalf("users: %s", users)
		}
		// One instance answers for both users.
		nums := ibkNumbers(filepath.Join(dir, "numbers"))
		l := ibkStartListener(t, stA, "--approve-number-from", string(nums))
		for _, who := range []string{"bob", "alice"} {
			r := ibkPushLogin(t, n, who, "portal")
			if ev := l.next(t, "push", 5*time.Second); ev["username"] != who {
				t.Fatalf("push for %s: %v", who, ev)
			}
			nums.add(t, r.str("prompt", "extra", "push_id"), r.str("prompt", "match_number"))
			l.next(t, "answered", 5*time.Second)
			if done := answer(t, n, r.str("login_id"), ""); done.Status != 201 {
				t.Fatalf("%s push login: %s", who, done.Raw)
			}
		}

		// (b) Add User with username, password and the SMS code sent to the
		// verified number (read from the local sink).
		dan := newIBKUser(t, n, "dan", "U7303")
		dtok := dan.session(t, n, "portal")
		if r := verifyMobile(t, n, dtok, mobile); r.Status != 200 {
			t.Fatalf("verify mobile: %s", r.Raw)
		}
		out, err = ibk(t, stA, "wrong-password\n", "add-user", "--username", "dan", "--password-stdin")
		if err == nil || !strings.Contains(out, "invalid_credentials") {
			t.Fatalf("wrong password: %v %s", err, out)
		}
		out2, err2 := ibk(t, stA, pw+"\n", "add-user", "--username", "nobody", "--password-stdin")
		if err2 == nil || strings.Replace(out2, "nobody", "dan", 1) != out {
			t.Fatalf("unknown user must look like a wrong password: %q vs %q", out2, out)
		}
		before := len(n.sink(mobile, "ibkey_activation_code"))
		out = ibkMust(t, stA, pw+"\n", "add-user", "--username", "dan", "--password-stdin")
		if !strings.Contains(out, "0123") {
			t.Fatalf("add user by SMS: %s", out)
		}
		msgs := n.waitSink(mobile, "ibkey_activation_code", before+1)
		code := codeOf(t, msgs[len(msgs)-1])
		out = ibkMust(t, stA, ibkPIN+"\n", "add-user", "--sms-code", code, "--pin-stdin")
		if !strings.Contains(out, "SLS Key activated for dan") {
			t.Fatalf("add user with the SMS code: %s", out)
		}
		// The running app connection learns of its new user at once.
		r := ibkPushLogin(t, n, "dan", "portal")
		if ev := l.next(t, "push", 5*time.Second); ev["username"] != "dan" {
			t.Fatalf("push for the added user: %v", ev)
		}
		nums.add(t, r.str("prompt", "extra", "push_id"), r.str("prompt", "match_number"))
		l.next(t, "answered", 5*time.Second)
		if done := answer(t, n, r.str("login_id"), ""); done.Status != 201 {
			t.Fatalf("dan push login: %s", done.Raw)
		}
		l.cmd.Process.Kill()
		l.cmd.Wait()

		// Migration: alice activates on a new phone; the old one stops
		// working for her (and only for her).
		stB := filepath.Join(dir, "phoneB.json")
		_, _, apng := ibkTicket(t, n, alice.session(t, n, "portal"))
		out = ibkMust(t, stB, "4321\n", "migrate", "--server", n.url, "--qr", apng, "--pin-stdin")
		if !strings.Contains(out, "no longer works for alice") {
			t.Fatalf("migrate: %s", out)
		}
		r = ibkPushLogin(t, n, "alice", "portal")
		if pend := ibkMust(t, stA, "", "pushes"); strings.Contains(pend, "alice") {
			t.Fatalf("old phone still gets alice's pushes: %s", pend)
		}
		resp := strings.TrimSpace(ibkMust(t, stA, ibkPIN+"\n", "respond", "--user", "alice", "--challenge", r.str("prompt", "challenge"), "--pin-stdin"))
		if bad := answer(t, n, r.str("login_id"), resp); bad.code() != "bad_response" {
			t.Fatalf("old phone answered for alice: %s", bad.Raw)
		}
		out, err = ibk(t, stB, "4321\n", "approve", "--push", r.str("prompt", "extra", "push_id"), "--number", r.str("prompt", "match_number"), "--pin-stdin")
		if err != nil || !strings.Contains(out, "approved") {
			t.Fatalf("new phone approval: %v %s", err, out)
		}
		if done := answer(t, n, r.str("login_id"), ""); done.Status != 201 {
			t.Fatalf("login after migration: %s", done.Raw)
		}
		if remote := ibkMust(t, stA, "", "users", "--remote"); !strings.Contains(remote, `"revoked"`) {
			t.Fatalf("old instance: %s", remote)
		}
		if !ibkAuditHas(t, n, "ibkey.migrated") {
			t.Fatal("migration not audited")
		}
	})
}

// Biometric (ios) access: 12 hours, extended to 36 hours from the login
// once re-authenticated; a PIN re-authentication extends nothing.
func TestIBKeyAccessDuration(t *testing.T) {
	n := startNode(t, "")
	dir := t.TempDir()
	erin := newIBKUser(t, n, "erin", "U7401")
	st := filepath.Join(dir, "iphone.json")
	ibkActivateQR(t, n, erin.session(t, n, "portal"), st, "ios")
	r := ibkPushLogin(t, n, "erin", "trading")
	out := ibkMust(t, st, ibkPIN+"\n", "approve", "--push", r.str("prompt", "extra", "push_id"), "--number", r.str("prompt", "match_number"), "--pin-stdin")
	if !strings.Contains(out, "approved") {
		t.Fatalf("approve: %s", out)
	}
	done := answer(t, n, r.str("login_id"), "")
	if done.str("session", "session", "biometric") != "true" {
		t.Fatalf("biometric session: %s", done.Raw)
	}
	tok := done.str("session", "token")
	type sess struct {
		CreatedAt time.Time `json:"created_at"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	get := func() sess {
		var s sess
		json.Unmarshal(call(t, "GET", n.url+"/api/v1/session", tok, nil).Raw, &s)
		return s
	}
	if s := get(); s.ExpiresAt.Sub(s.CreatedAt) != 12*time.Hour {
		t.Fatalf("before re-authentication: %v", s)
	}
	out = ibkMust(t, st, ibkPIN+"\n", "reauth", "--pin-stdin", "--passcode")
	if !strings.Contains(out, `"extended":[]`) {
		t.Fatalf("passcode reauth extended: %s", out)
	}
	out = ibkMust(t, st, ibkPIN+"\n", "reauth", "--pin-stdin")
	if !strings.Contains(out, "session_id") {
		t.Fatalf("reauth: %s", out)
	}
	if s := get(); s.ExpiresAt.Sub(s.CreatedAt) != 36*time.Hour {
		t.Fatalf("after re-authentication: %v", s)
	}
	// A wrong unlock secret is a counted failure.
	if out, err := ibk(t, st, "nope-nope\n", "reauth", "--pin-stdin"); err == nil || !strings.Contains(out, "bad_response") {
		t.Fatalf("reauth with a wrong secret: %v %s", err, out)
	}
}

// Two nodes on one PostgreSQL: the app is connected to node A, the login
// waits on node B; the approval taken by A completes B's login.
func TestIBKeyTwoNodes(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	data := t.TempDir()
	a := startNode(t, dsn, withDataDir(data))
	b := startNode(t, dsn, withDataDir(data))
	dir := t.TempDir()
	alice := newIBKUser(t, a, "alice", "U7501")
	st := filepath.Join(dir, "phone.json") // activated through A
	ibkActivateQR(t, a, alice.session(t, a, "portal"), st, "android")
	nums := ibkNumbers(filepath.Join(dir, "numbers"))
	l := ibkStartListener(t, st, "--approve-number-from", string(nums))
	for i := 0; i < 3; i++ {
		r := ibkPushLogin(t, b, "alice", "trading") // login on B
		ev := l.next(t, "push", 5*time.Second)      // delivered by A
		if ev["push_id"] != r.str("prompt", "extra", "push_id") {
			t.Fatalf("push: %v", ev)
		}
		start := time.Now()
		nums.add(t, r.str("prompt", "extra", "push_id"), r.str("prompt", "match_number"))
		w := ibkWait(t, b, r.str("login_id"), 10000)
		if w.str("prompt", "extra", "push") != "approved" || time.Since(start) > time.Second {
			t.Fatalf("wait on B: %s after %s", w.Raw, time.Since(start))
		}
		if done := answer(t, b, r.str("login_id"), ""); done.Status != 201 {
			t.Fatalf("complete on B: %s", done.Raw)
		}
	}
}

// The optional push gateway receives a signed POST per push, with nothing
// secret in it.
func TestIBKeyPushGateway(t *testing.T) {
	secret := "gateway-secret-0123456789abcdef"
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature([]byte(secret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer srv.Close()
	sf := filepath.Join(t.TempDir(), "gw.secret")
	os.WriteFile(sf, []byte(secret), 0o600)
	n := startNode(t, "", withArgs("--config", ibkConfig(t, fmt.Sprintf(`{"ibkey": {"gateway": {"url": %q, "secret_file": %q}}}`, srv.URL, sf))))
	frank := newIBKUser(t, n, "frank", "U7601")
	st := filepath.Join(t.TempDir(), "phone.json")
	ibkActivateQR(t, n, frank.session(t, n, "portal"), st, "android")
	r := ibkPushLogin(t, n, "frank", "portal")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		k := len(got)
		mu.Unlock()
		if k > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0]["push_id"] != r.str("prompt", "extra", "push_id") || got[0]["type"] != "ibkey.push" {
		t.Fatalf("gateway received %v", got)
	}
	raw, _ := json.Marshal(got[0])
	if len(got[0]) != 4 || got[0]["instances"] == nil || got[0]["expires_at"] == nil || bytes.Contains(raw, []byte("frank")) {
		t.Fatalf("gateway body holds more than it needs: %s", raw)
	}
}

// Activating IB Key switches SMS login off (the SMS feature's
// DeviceActivated hook, run by manage.ActivateInTx).
func TestIBKeySwitchesSMSOff(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		setupUser(t, n, "gus", "U7701")
		_, tok := onlineCardSession(t, n, "gus")
		if r := verifyMobile(t, n, tok, mobile); r.Status != 200 {
			t.Fatalf("verify mobile: %s", r.Raw)
		}
		has := func(kind string) bool {
			for _, k := range devicesOffered(t, n, "gus") {
				if k == kind {
					return true
				}
			}
			return false
		}
		if !has("sms") {
			t.Fatal("SMS login not offered before IB Key")
		}
		ibkActivateQR(t, n, tok, filepath.Join(t.TempDir(), "phone.json"), "android")
		if has("sms") || !has("ibkey") {
			t.Fatalf("offered after IB Key activation: %v", devicesOffered(t, n, "gus"))
		}
	})
}

// The interactive app: it shows who, where and on which platform, then
// asks for the number and unlocks (the PIN typed once with --pin-stdin).
func TestIBKeyInteractiveListen(t *testing.T) {
	n := startNode(t, "")
	hal := newIBKUser(t, n, "hal", "U7801")
	st := filepath.Join(t.TempDir(), "phone.json")
	ibkActivateQR(t, n, hal.session(t, n, "portal"), st, "android")
	cmd := exec.Command(bin["ibkey"], "--state", st, "listen", "--pin-stdin", "--count", "1")
	stdin, _ := cmd.StdinPipe()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	fmt.Fprintln(stdin, ibkPIN)
	waitFor := func(s string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), s); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in:\n%s", s, out.String())
			}
		}
	}
	waitFor("waiting for login requests")
	r := ibkPushLogin(t, n, "hal", "trading")
	waitFor("Login request for hal on trading from 127.0.0.1")
	waitFor("Type the number shown on the login screen")
	fmt.Fprintln(stdin, r.str("prompt", "match_number"))
	waitFor(": approved")
	if done := answer(t, n, r.str("login_id"), ""); done.Status != 201 {
		t.Fatalf("complete: %s", done.Raw)
	}
}
