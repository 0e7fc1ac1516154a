package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var reportLink = regexp.MustCompile(`(http://[^\s]+/report/(rpt_[A-Za-z0-9_-]+))`)

// TestAccountTakeoverScript plays the attack the cool-down and "this
// wasn't me" exist for: a phished password plus a device Client Services
// was tricked into issuing. The attacker's withdrawal and banking change
// are held by the cool-down; the client follows the link in the notice of
// the new device, which locks the account, ends the attacker's session
// and alerts the Security Team; the link works once, made-up links change
// nothing, and only Client Services lifts the lock and the cool-down.
func TestAccountTakeoverScript(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		cfg := filepath.Join(t.TempDir(), "takeover.json")
		if err := os.WriteFile(cfg, []byte(`{"takeover": {"security_team_email": "soc@broker.example"},
			"limits": `+strings.Replace(relaxedLimits, `"oidc_authorize_per_address"`, `"report_per_address": {"rate": 3, "per": "1h", "burst": 3}, "oidc_authorize_per_address"`, 1)+`}`), 0o600); err != nil {
			t.Fatal(err)
		}
		n := startNode(t, db, withArgs("--config", cfg))
		n.mustCtl("", "account", "create", "--id", "U7001", "--currency", "USD", "--equity", "2500000.00", "--jurisdiction", "US")
		n.mustCtl(pw+"\n", "user", "create", "--username", "vera", "--account", "U7001", "--email", "vera@example.invalid")
		own := filepath.Join(t.TempDir(), "own-card.json")
		n.mustCtl("", "dscplus", "issue", "vera", "--pin", "2468", "--out", own)

		var ownID string
		login := func(card, pin string) apiResult {
			t.Helper()
			r := startLogin(t, n, "vera", "trading")
			c := r
			if ownID != "" { // several cards: pick hers
				c = call(t, "POST", n.url+"/api/v1/login/device", "", map[string]any{"login_id": r.str("login_id"), "device_id": ownID})
			}
			return answer(t, n, c.str("login_id"), dscRespond(t, card, pin, c.str("prompt", "challenge")))
		}
		// Her first card raised her limits as designed: no cool-down.
		done := login(own, "2468")
		ownID = done.str("session", "session", "device_id")
		if done.Status != 201 {
			t.Fatalf("own login: %s", done.Raw)
		} else if lim := call(t, "GET", n.url+"/api/v1/withdrawals/limits", done.str("session", "token"), nil); lim.str("day", "unlimited") != "true" || lim.Body["limit"].(map[string]any)["cool_down"] != nil {
			t.Fatalf("first device started a cool-down: %s", lim.Raw)
		}

		// Client Services is talked into issuing a second card, which the
		// attacker now holds with the phished password.
		stolen := filepath.Join(t.TempDir(), "attacker-card.json")
		issued := n.mustCtl("", "dscplus", "issue", "vera", "--pin", "1357", "--out", stolen)
		im := regexp.MustCompile(`device (dev_[a-z0-9]+)`).FindStringSubmatch(issued)
		if im == nil {
			t.Fatalf("dscplus issue: %s", issued)
		}
		r := startLogin(t, n, "vera", "trading")
		c := call(t, "POST", n.url+"/api/v1/login/device", "", map[string]any{"login_id": r.str("login_id"), "device_id": im[1]})
		attacker := answer(t, n, c.str("login_id"), dscRespond(t, stolen, "1357", c.str("prompt", "challenge"))).str("session", "token")
		if attacker == "" {
			t.Fatal("the attacker could not log in with the second card")
		}

		// The cool-down holds the money: a large withdrawal is refused and
		// says why and until when; banking instructions cannot change.
		chk := call(t, "POST", n.url+"/api/v1/withdrawals/check", attacker, map[string]string{"currency": "USD", "amount": "100000.00"})
		if chk.Status != 200 || chk.str("allowed") != "false" || chk.str("limit", "basis") != "cool_down" ||
			chk.str("limit", "cool_down", "change") != "device_added" || chk.str("limit", "cool_down", "until") == "" || !strings.Contains(chk.str("message"), "security change") {
			t.Fatalf("withdrawal during the cool-down: %s", chk.Raw)
		}
		rec := call(t, "POST", n.url+"/api/v1/withdrawals", attacker, map[string]string{"request_id": "steal-1", "currency": "USD", "amount": "100000.00"})
		if rec.Status < 400 || rec.str("error", "detail", "cool_down_until") == "" {
			t.Fatalf("booking during the cool-down: %d %s", rec.Status, rec.Raw)
		}
		bank := call(t, "POST", n.url+"/api/v1/benefits/banking-change/check", attacker, nil)
		if bank.str("allowed") != "false" || bank.str("condition") != "cool_down" || bank.str("cool_down_until") == "" {
			t.Fatalf("banking change during the cool-down: %s", bank.Raw)
		}
		// Even with his card signing his own account.
		bc := call(t, "POST", n.url+"/api/v1/banking-changes/confirmations", attacker, map[string]string{"device_id": im[1], "payee": "GB29NWBK60161331926819"})
		sig, err := exec.Command(bin["dsccard"], "--card", stolen, "--pin", "1357", "--sign", "--code", bc.str("prompt", "extra", "code"), "--payee", "6819").CombinedOutput()
		if err != nil {
			t.Fatalf("dsccard: %v %s", err, sig)
		}
		call(t, "POST", n.url+"/api/v1/banking-changes/confirmations/answer", attacker,
			map[string]string{"confirmation_id": bc.str("confirmation_id"), "response": strings.TrimSpace(string(sig))})
		if c := call(t, "POST", n.url+"/api/v1/banking-changes", attacker, map[string]string{"payee": "GB29NWBK60161331926819",
			"confirmation_id": bc.str("confirmation_id")}); c.Status != 403 || c.str("error", "detail", "condition") != "cool_down" {
			t.Fatalf("the attacker changed the banking instructions: %d %s", c.Status, c.Raw)
		}

		// The client reads the notice of the new card and its link.
		msgs := n.waitSink("vera@example.invalid", "device_activated", 2)
		m := reportLink.FindStringSubmatch(msgs[len(msgs)-1].Body)
		if m == nil {
			t.Fatalf("no report link in the notice: %q", msgs[len(msgs)-1].Body)
		}
		link, token := m[1], m[2]
		resp, err := http.Get(link) // the page only shows what will happen
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), `id="report-button"`) {
			t.Fatalf("report page: %d %s", resp.StatusCode, page)
		}
		if s := call(t, "GET", n.url+"/api/v1/session", attacker, nil); s.Status != 200 {
			t.Fatalf("opening the page reported already: %s", s.Raw)
		}
		rep := call(t, "POST", n.url+"/api/v1/report", "", map[string]string{"token": token})
		if rep.Status != 200 || rep.str("locked") != "true" || rep.str("username") != "vera" {
			t.Fatalf("report: %d %s", rep.Status, rep.Raw)
		}

		// The attacker is out and cannot come back; the team is alerted.
		if s := call(t, "GET", n.url+"/api/v1/session", attacker, nil); s.Status != 401 {
			t.Fatalf("the attacker's session survived the report: %d %s", s.Status, s.Raw)
		}
		// (To a client it does not know, a locked user answers like a wrong
		// password: the lock tells a guesser nothing.)
		if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "vera", "password": pw, "platform": "trading"}); r.Status < 400 {
			t.Fatalf("login after the report: %d %s", r.Status, r.Raw)
		}
		alert := n.waitSink("soc@broker.example", "security_alert", 1)
		if !strings.Contains(alert[0].Body, "vera") || !strings.Contains(alert[0].Body, "127.0.0.0/24") {
			t.Errorf("alert: %q", alert[0].Body)
		}
		n.waitSink("vera@example.invalid", "takeover_reported", 1)
		export := filepath.Join(t.TempDir(), "audit.jsonl")
		n.mustCtl("", "audit", "export", "--since", "2000-01-01T00:00:00Z", "--out", export)
		trail, _ := os.ReadFile(export)
		if !regexp.MustCompile(`"event":"takeover\.reported"[^\n]*127\.0\.0\.1[^\n]*via[^\n]*link`).Match(trail) {
			t.Errorf("the audit trail does not record the report and its address:\n%s", trail[max(0, len(trail)-3000):])
		}

		// The link works once; made-up links change nothing and are
		// rate-limited.
		if again := call(t, "POST", n.url+"/api/v1/report", "", map[string]string{"token": token}); again.Status != 404 {
			t.Fatalf("link used twice: %d %s", again.Status, again.Raw)
		}
		limited := false
		for i := range 5 {
			r := call(t, "POST", n.url+"/api/v1/report", "", map[string]string{"token": fmt.Sprintf("rpt_madeup%d", i)})
			if r.Status == 429 {
				limited = true
				break
			}
			if r.Status != 404 {
				t.Fatalf("made-up link: %d %s", r.Status, r.Raw)
			}
		}
		if !limited {
			t.Error("made-up links are not rate-limited")
		}
		for _, bad := range []string{`{}`, `{"token": 5}`, `not json`} {
			if r := call(t, "POST", n.url+"/api/v1/report", "", bad); r.Status != 400 && r.Status != 429 {
				t.Errorf("malformed %s: %d", bad, r.Status)
			}
		}

		// Client Services unlocks her after checking; the cool-down stays
		// until they lift it too.
		n.mustCtl("", "unlock", "vera")
		tok := login(own, "2468").str("session", "token")
		if chk := call(t, "POST", n.url+"/api/v1/withdrawals/check", tok, map[string]string{"currency": "USD", "amount": "100000.00"}); chk.str("allowed") != "false" {
			t.Fatalf("the unlock lifted the cool-down: %s", chk.Raw)
		}
		if out, err := n.ctl("", "user", "clear-cool-down", "vera", "--reason", "x"); err == nil {
			t.Fatalf("cleared without a reason: %s", out)
		}
		n.mustCtl("", "user", "clear-cool-down", "vera", "--reason", "called back on the number on file; she revoked the second card")
		if chk := call(t, "POST", n.url+"/api/v1/withdrawals/check", tok, map[string]string{"currency": "USD", "amount": "100000.00"}); chk.str("allowed") != "true" {
			t.Fatalf("after the cool-down was lifted: %s", chk.Raw)
		}
	})
}

// TestConfirmationSignsAmountAndPayee: a withdrawal confirmed with the
// card in SIGN mode binds its amount and payee. The client types what
// the screen shows into dsccard; a response for another amount is wrong,
// and the confirmation of USD 100 to one payee pays neither USD 100,000
// nor another payee, and pays once.
func TestConfirmationSignsAmountAndPayee(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		setupUser(t, n, "wanda", "U7101")
		card := filepath.Join(t.TempDir(), "card.json")
		issued := n.mustCtl("", "dscplus", "issue", "wanda", "--pin", "2468", "--out", card)
		dev := regexp.MustCompile(`device (dev_[a-z0-9]+)`).FindStringSubmatch(issued)[1]
		r := startLogin(t, n, "wanda", "portal")
		tok := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge"))).str("session", "token")

		st := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations", tok,
			map[string]string{"device_id": dev, "currency": "USD", "amount": "100.00", "payee": "DE89 3704 0044 0532 0130 00"})
		if st.Status != 201 || st.str("payee") != "DE89370400440532013000" || st.str("prompt", "extra", "mode") != "sign" ||
			st.str("prompt", "extra", "payee_digits") != "3000" || st.str("prompt", "extra", "amount") != "100" {
			t.Fatalf("confirmation: %d %s", st.Status, st.Raw)
		}
		code := st.str("prompt", "extra", "code")
		sign := func(amount string) string {
			out, err := exec.Command(bin["dsccard"], "--card", card, "--pin", "2468", "--sign", "--code", code, "--payee", "3000", "--amount", amount).CombinedOutput()
			if err != nil {
				t.Fatalf("dsccard --sign: %v %s", err, out)
			}
			return strings.TrimSpace(string(out))
		}
		// The card signed another amount than the one confirmed: wrong.
		if a := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations/answer", tok,
			map[string]string{"confirmation_id": st.str("confirmation_id"), "response": sign("100000")}); a.Status < 400 {
			t.Fatalf("a response for USD 100,000 confirmed USD 100: %s", a.Raw)
		}
		if a := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations/answer", tok,
			map[string]string{"confirmation_id": st.str("confirmation_id"), "response": sign("100")}); a.Status != 200 || a.str("confirmed") != "true" {
			t.Fatalf("answer: %d %s", a.Status, a.Raw)
		}
		pay := func(id, amount, payee string) apiResult {
			return call(t, "POST", n.url+"/api/v1/withdrawals", tok, map[string]string{"request_id": id, "currency": "USD", "amount": amount,
				"payee": payee, "confirmation_id": st.str("confirmation_id")})
		}
		if w := pay("w1", "100000.00", "DE89370400440532013000"); w.Status != 400 || !strings.Contains(w.str("error", "message"), "100.00") {
			t.Fatalf("USD 100 confirmation replayed for USD 100,000: %d %s", w.Status, w.Raw)
		}
		if w := pay("w2", "100.00", "GB29NWBK60161331926819"); w.Status != 400 || !strings.Contains(w.str("error", "message"), "payee") {
			t.Fatalf("confirmation replayed for another payee: %d %s", w.Status, w.Raw)
		}
		if w := pay("w3", "100.00", "de89-3704-0044-0532-0130-00"); w.Status >= 300 || w.str("withdrawal", "id") == "" {
			t.Fatalf("the confirmed withdrawal: %d %s", w.Status, w.Raw)
		}
		if w := pay("w4", "100.00", "DE89370400440532013000"); w.Status != 409 {
			t.Fatalf("the confirmation paid twice: %d %s", w.Status, w.Raw)
		}
		if w := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations", tok,
			map[string]string{"device_id": dev, "currency": "USD", "amount": "1.00", "payee": "<script>"}); w.Status != 400 {
			t.Fatalf("a malformed payee: %d %s", w.Status, w.Raw)
		}

		// A new banking instruction: the card signs the new account.
		bc := call(t, "POST", n.url+"/api/v1/banking-changes/confirmations", tok, map[string]string{"device_id": dev, "payee": "GB29 NWBK 6016 1331 9268 19"})
		if bc.Status != 201 || bc.str("prompt", "extra", "payee_digits") != "6819" || bc.str("prompt", "extra", "amount") != "" {
			t.Fatalf("banking confirmation: %d %s", bc.Status, bc.Raw)
		}
		out, err := exec.Command(bin["dsccard"], "--card", card, "--pin", "2468", "--sign", "--code", bc.str("prompt", "extra", "code"), "--payee", "6819").CombinedOutput()
		if err != nil {
			t.Fatalf("dsccard --sign: %v %s", err, out)
		}
		if a := call(t, "POST", n.url+"/api/v1/banking-changes/confirmations/answer", tok,
			map[string]string{"confirmation_id": bc.str("confirmation_id"), "response": strings.TrimSpace(string(out))}); a.str("confirmed") != "true" {
			t.Fatalf("banking answer: %d %s", a.Status, a.Raw)
		}
		change := func(payee string) apiResult {
			return call(t, "POST", n.url+"/api/v1/banking-changes", tok, map[string]string{"payee": payee, "confirmation_id": bc.str("confirmation_id")})
		}
		if c := change("DE89370400440532013000"); c.Status != 400 {
			t.Fatalf("a confirmation for one account changed to another: %d %s", c.Status, c.Raw)
		}
		if c := change("GB29NWBK60161331926819"); c.Status != 201 || c.str("changed") != "true" {
			t.Fatalf("banking change: %d %s", c.Status, c.Raw)
		}
		if c := change("GB29NWBK60161331926819"); c.Status != 409 {
			t.Fatalf("the confirmation changed twice: %d %s", c.Status, c.Raw)
		}
		// A withdrawal confirmation does not change banking instructions.
		if c := call(t, "POST", n.url+"/api/v1/banking-changes", tok, map[string]string{"payee": "DE89370400440532013000",
			"confirmation_id": st.str("confirmation_id")}); c.Status != 404 {
			t.Fatalf("a withdrawal confirmation changed banking instructions: %d %s", c.Status, c.Raw)
		}
	})
}

// TestIBKeySignsWithdrawalAndNotMe: a withdrawal confirmation pushed to
// IB Key shows the amount and payee, and the app's approval is signed
// over them; by challenge/response the app signs the parts the screen
// shows, and a response for another amount is wrong. A push denied as
// "this wasn't me" locks the user and ends their sessions.
func TestIBKeySignsWithdrawalAndNotMe(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db, withArgs("--config", ibkConfig(t, `{"takeover": {"security_team_email": "soc@broker.example"}}`)))
		dir := t.TempDir()
		alice := newIBKUser(t, n, "alice", "U7201")
		st := filepath.Join(dir, "phone.json")
		ibkActivateQR(t, n, alice.session(t, n, "portal"), st, "android")
		tok := alice.session(t, n, "portal")
		var ibkeyID string
		for _, d := range call(t, "GET", n.url+"/api/v1/devices", tok, nil).Body["devices"].([]any) {
			if m := d.(map[string]any); m["kind"] == "ibkey" {
				ibkeyID = m["id"].(string)
			}
		}
		confirm := func(amount string) apiResult {
			t.Helper()
			c := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations", tok,
				map[string]string{"device_id": ibkeyID, "currency": "USD", "amount": amount, "payee": "DE89370400440532013000"})
			if c.Status != 201 || c.str("prompt", "extra", "sign", "payee_digits") != "3000" {
				t.Fatalf("confirmation: %d %s", c.Status, c.Raw)
			}
			return c
		}

		// Push: the app shows what it confirms and signs it.
		nums := ibkNumbers(filepath.Join(dir, "numbers"))
		l := ibkStartListener(t, st, "--approve-number-from", string(nums))
		c := confirm("250.00")
		ev := l.next(t, "push", 5*time.Second)
		tr, _ := ev["transaction"].(map[string]any)
		if tr["amount"] != "250.00" || tr["currency"] != "USD" || tr["payee"] != "DE89370400440532013000" || !strings.Contains(fmt.Sprint(ev["text"], ev), "250.00") {
			t.Fatalf("the push does not show the withdrawal: %v", ev)
		}
		nums.add(t, c.str("prompt", "extra", "push_id"), c.str("prompt", "match_number"))
		if ev := l.next(t, "answered", 5*time.Second); ev["state"] != "approved" {
			t.Fatalf("approval: %v", ev)
		}
		if a := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations/answer", tok,
			map[string]string{"confirmation_id": c.str("confirmation_id"), "response": ""}); a.str("confirmed") != "true" {
			t.Fatalf("approved push did not confirm: %d %s", a.Status, a.Raw)
		}
		l.cmd.Process.Kill()
		l.cmd.Wait()

		// Challenge/response: the parts the screen shows, typed in.
		c = confirm("1500.00")
		parts := func(amount string) string {
			return strings.TrimSpace(ibkMust(t, st, ibkPIN+"\n", "respond", "--code", c.str("prompt", "extra", "sign", "code"),
				"--payee", "3000", "--amount", amount, "--pin-stdin"))
		}
		if a := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations/answer", tok,
			map[string]string{"confirmation_id": c.str("confirmation_id"), "response": parts("15000")}); a.Status < 400 {
			t.Fatalf("a response for USD 15,000 confirmed USD 1,500: %s", a.Raw)
		}
		if a := call(t, "POST", n.url+"/api/v1/withdrawals/confirmations/answer", tok,
			map[string]string{"confirmation_id": c.str("confirmation_id"), "response": parts("1500")}); a.str("confirmed") != "true" {
			t.Fatalf("challenge/response: %d %s", a.Status, a.Raw)
		}

		// "This wasn't me" from the app.
		ld := ibkStartListener(t, st, "--deny", "--not-me")
		r := ibkPushLogin(t, n, "alice", "trading")
		ld.next(t, "push", 5*time.Second)
		if ev := ld.next(t, "answered", 5*time.Second); ev["state"] != "denied" {
			t.Fatalf("deny: %v", ev)
		}
		_ = r
		if s := call(t, "GET", n.url+"/api/v1/session", tok, nil); s.Status != 401 {
			t.Fatalf("sessions survived a \"this wasn't me\": %d %s", s.Status, s.Raw)
		}
		n.waitSink("soc@broker.example", "security_alert", 1)
		if !ibkAuditHas(t, n, "takeover.reported") {
			t.Fatal("the report is not audited")
		}
		ld.cmd.Process.Kill()
		ld.cmd.Wait()
	})
}

// TestReportInBrowser: in Chromium, the client opens the link of a
// security notice and presses "this wasn't me" (the account locks and the
// page says so), and, after Client Services unlocked it, presses the
// portal's own button on the sessions page.
func TestReportInBrowser(t *testing.T) {
	n, card := portalNode(t)
	n.mustCtl("", "user", "update", "alice", "--email", "alice@example.invalid")
	n.mustCtl("", "codecard", "issue", "alice") // a second device: a notice with a link
	msgs := n.waitSink("alice@example.invalid", "device_activated", 1)
	m := reportLink.FindStringSubmatch(msgs[len(msgs)-1].Body)
	if m == nil {
		t.Fatalf("no link in %q", msgs[len(msgs)-1].Body)
	}
	b := newBrowser(t, n.url, browserOpt{})
	b.open(strings.TrimPrefix(m[1], n.url))
	b.expect("#report-button")
	b.shot("report-page")
	b.submit("#report-button")
	if !strings.Contains(b.text("#report-done"), "locked") {
		t.Fatalf("after the report: %s", b.dump())
	}
	if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "alice", "password": pw, "platform": "portal"}); r.Status < 400 {
		t.Fatalf("login after the report: %s", r.Raw)
	}
	n.mustCtl("", "unlock", "alice")

	b.dscLogin("alice", card, "2468")
	b.open("/settings/sessions")
	b.submit("#self-report-button")
	if !strings.Contains(b.text("#report-done"), "locked") {
		t.Fatalf("after the portal's report: %s", b.dump())
	}
	if !strings.Contains(n.mustCtl("", "audit", "list", "--limit", "10000"), `"via":"portal"`) {
		t.Error("the portal's report is not audited with its origin")
	}
}
