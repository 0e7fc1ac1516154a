package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// polConfig gives the nodes of these journeys their regional return
// addresses (SPEC §6: configuration).
const polConfig = `{"lifecycle": {"return_addresses": {
	"us_canada": "SLS Device Returns\n1 Pickwick Plaza\nGreenwich CT 06830\nUSA",
	"europe": "SLS Device Returns Europe\nGustav Mahlerlaan 10\nAmsterdam\nNetherlands"}}}`

func polConfigFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(p, []byte(polConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// polUser creates an account and a user with an email address (where the
// notices go) and a Security Code Card to log in with; it returns the
// card's values.
func polUser(t *testing.T, n *node, username, account, equity, jurisdiction string, admin bool) map[string]string {
	t.Helper()
	n.mustCtl("", "account", "create", "--id", account, "--currency", "USD", "--equity", equity, "--jurisdiction", jurisdiction)
	args := []string{"user", "create", "--username", username, "--account", account, "--email", username + "@example.test",
		"--dob", "1970-01-01", "--citizenship", "US", "--residence", jurisdiction, "--id-type", "passport", "--id-number", "P-" + username}
	if admin {
		args = append(args, "--security-admin")
	}
	n.mustCtl(pw+"\n", args...)
	values := parseCard(n.codeCard(username))
	if len(values) != 50 {
		t.Fatalf("code card of %s: %d values", username, len(values))
	}
	return values
}

// polCardLogin logs in with the Security Code Card and returns the
// session token.
func polCardLogin(t *testing.T, n *node, username string, values map[string]string, platform string) string {
	t.Helper()
	r := startLogin(t, n, username, platform)
	c := chooseDevice(t, n, r, "codecard")
	ix := c.Body["prompt"].(map[string]any)["indices"].([]any)
	done := answer(t, n, c.str("login_id"), values[fmtNum(ix[0])]+" "+values[fmtNum(ix[1])])
	if done.Status != 201 {
		t.Fatalf("code card login of %s: %s", username, done.Raw)
	}
	return done.str("session", "token")
}

// polSink counts the messages of kind delivered to the local sink for to;
// ok is false when this slsctl has no sink command.
func polSink(t *testing.T, n *node, to, kind string) (count int, ok bool) {
	t.Helper()
	out, err := n.ctl("", "sink", "list", "--to", to, "--kind", kind)
	if err != nil {
		if strings.Contains(out, "unknown command") {
			return 0, false
		}
		t.Fatalf("sink list: %v %s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		var m struct {
			Kind string `json:"kind"`
			To   string `json:"to"`
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("sink line %q: %v", line, err)
		}
		if m.Kind == kind && m.To == to {
			count++
		}
	}
	return count, true
}

// polWaitSink waits until the sink holds want messages of kind for to.
func polWaitSink(t *testing.T, n *node, to, kind string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, ok := polSink(t, n, to, kind)
		if !ok {
			t.Errorf("slsctl has no sink command: %s notices to %s unverified", kind, to)
			return
		}
		if got == want {
			return
		}
		if got > want || time.Now().After(deadline) {
			t.Fatalf("sink has %d %s messages to %s, want %d", got, kind, to, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// polWait polls cond for up to 20 seconds.
func polWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func polOrderState(t *testing.T, n *node, id string) string {
	t.Helper()
	var o struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(n.mustCtl("", "orders", "show", id)), &o); err != nil {
		t.Fatal(err)
	}
	return o.State
}

func polDeposits(t *testing.T, n *node, account string) (held, released, forfeited float64) {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(n.mustCtl("", "deposits", account)), &d); err != nil {
		t.Fatal(err)
	}
	return d["held_usd_cents"].(float64), d["released_usd_cents"].(float64), d["forfeited_usd_cents"].(float64)
}

// polOrder previews and places a DSC+ order; replace is nil for a new one.
func polOrder(t *testing.T, n *node, token, pin string, replace map[string]string) apiResult {
	t.Helper()
	body := map[string]any{"shipping_address": "Ada Client\n10 Elm Street\nSpringfield IL 62701\nUSA", "pin": pin}
	if replace != nil {
		body["replace"] = replace
	}
	sum := call(t, "POST", n.url+"/api/v1/dscplus/orders/preview", token, body)
	if sum.Status != 200 || sum.str("summary") == "" || sum.str("deposit_usd_cents") != "2000" {
		t.Fatalf("summary: %s", sum.Raw)
	}
	body["summary"] = sum.str("summary")
	placed := call(t, "POST", n.url+"/api/v1/dscplus/orders", token, body)
	if placed.Status != 201 || placed.str("expected_delivery") != sum.str("expected_delivery") || placed.str("order", "state") != "ordered" {
		t.Fatalf("place: %s", placed.Raw)
	}
	return placed
}

var shippedLine = regexp.MustCompile(`card (\S+) \(device (dev_\S+)\)`)

// TestDSCPlusOrderJourney: a client orders a DSC+; Client Services ships
// and delivers it; the client is told a week and a day before the card
// activates by itself three weeks after delivery; it then logs the client
// in. The client returns it, the return is received and the deposit
// released.
func TestDSCPlusOrderJourney(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		clk := filepath.Join(t.TempDir(), "clock")
		n := startNode(t, db, withClockFile(clk), withArgs("--config", polConfigFile(t)))
		values := polUser(t, n, "olga", "U8001", "2500000.00", "US", false)
		mail := "olga@example.test"
		token := polCardLogin(t, n, "olga", values, "portal")

		form := call(t, "GET", n.url+"/api/v1/dscplus/order-form", token, nil)
		if form.Status != 200 || form.str("eligibility", "eligible") != "true" || form.str("deposit_account") != "U8001" {
			t.Fatalf("order form: %s", form.Raw)
		}
		placed := polOrder(t, n, token, "2580", nil)
		orderID := placed.str("order", "id")
		if !strings.Contains(n.mustCtl("", "orders", "list", "--state", "ordered"), orderID) {
			t.Fatal("the order is not listed for operators")
		}
		card := filepath.Join(t.TempDir(), "card.json")
		out := n.mustCtl("", "orders", "ship", orderID, "--carrier", "DHL", "--tracking", "JD014600003828", "--out", card)
		m := shippedLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("ship: %s", out)
		}
		deviceID := m[2]
		polWaitSink(t, n, mail, "device_shipped", 1)
		out = n.mustCtl("", "orders", "deliver", orderID)
		if !strings.Contains(out, "delivered") {
			t.Fatalf("deliver: %s", out)
		}
		polWaitSink(t, n, mail, "device_delivered", 1)

		// Three weeks in three steps, as the days pass.
		setClock(t, clk, 14*24*time.Hour+time.Minute)
		polWaitSink(t, n, mail, "auto_activation_coming", 1)
		if polOrderState(t, n, orderID) != "delivered" {
			t.Fatal("activated a week early")
		}
		setClock(t, clk, 20*24*time.Hour+time.Minute)
		polWaitSink(t, n, mail, "auto_activation_coming", 2)
		setClock(t, clk, 21*24*time.Hour+time.Minute)
		polWait(t, "auto-activation", func() bool { return polOrderState(t, n, orderID) == "active" })
		polWaitSink(t, n, mail, "device_auto_activated", 1)
		polWaitSink(t, n, mail, "auto_activation_coming", 2) // and no more

		// The delivered card logs the client in.
		r := startLogin(t, n, "olga", "trading")
		c := chooseDevice(t, n, r, "dscplus")
		done := answer(t, n, c.str("login_id"), dscRespond(t, card, "2580", c.str("prompt", "challenge")))
		if done.Status != 201 || done.str("session", "session", "device_id") != deviceID {
			t.Fatalf("login with the delivered card: %s", done.Raw)
		}
		// A card added beside her code card starts a cool-down (package
		// takeover): the lower tier, saying until when; then the card's
		// own limits, unlimited.
		tok := done.str("session", "token")
		lim := call(t, "GET", n.url+"/api/v1/withdrawals/limits", tok, nil)
		if lim.Status != 200 || lim.str("limit", "device_kind") != "dscplus" || lim.str("limit", "basis") != "cool_down" ||
			lim.str("limit", "cool_down", "change") != "device_added" {
			t.Fatalf("limits with the DSC+ in its cool-down: %s", lim.Raw)
		}
		setClock(t, clk, 24*24*time.Hour+2*time.Minute)
		r = startLogin(t, n, "olga", "trading")
		c = chooseDevice(t, n, r, "dscplus")
		done = answer(t, n, c.str("login_id"), dscRespond(t, card, "2580", c.str("prompt", "challenge")))
		tok = done.str("session", "token")
		lim = call(t, "GET", n.url+"/api/v1/withdrawals/limits", tok, nil)
		if lim.Status != 200 || lim.str("limit", "device_kind") != "dscplus" || lim.str("day", "unlimited") != "true" {
			t.Fatalf("limits with the DSC+ after the cool-down: %s", lim.Raw)
		}

		// Return: the address for the region is shown; receipt releases
		// the deposit.
		token = polCardLogin(t, n, "olga", values, "portal")
		addr := call(t, "GET", n.url+"/api/v1/lifecycle/return-address", token, nil)
		if addr.str("region") != "us_canada" || !strings.Contains(addr.str("address"), "Greenwich") {
			t.Fatalf("return address: %s", addr.Raw)
		}
		ret := call(t, "POST", n.url+"/api/v1/lifecycle/returns", token,
			map[string]string{"device_id": deviceID, "reason": "consolidation", "carrier": "UPS", "tracking": "1Z999AA10123456784"})
		if ret.Status != 201 || ret.str("order", "state") != "return_sent" {
			t.Fatalf("return: %s", ret.Raw)
		}
		if again := call(t, "POST", n.url+"/api/v1/lifecycle/returns", token,
			map[string]string{"device_id": deviceID, "reason": "consolidation", "carrier": "UPS"}); again.code() != "conflict" {
			t.Fatalf("second return: %s", again.Raw)
		}
		if held, _, _ := polDeposits(t, n, "U8001"); held != 2000 {
			t.Fatalf("held before receipt: %v", held)
		}
		n.restart() // the ledger and the order survive a restart
		// The review's truncated receipt (and its kin) never books
		// anything: the ledger is append-only, so a body misread as
		// "intact" would release the deposit for good.
		opToken := n.opToken()
		for _, body := range []string{`{"assessment":"deliberately_damaged"`, `{`, `{}`, `null`, `{"assessment":null}`, `{"note":"x"}`, `{"assessment":"intact"} x`} {
			if r := call(t, "POST", n.url+"/api/v1/ops/orders/"+orderID+"/receive", opToken, body); r.Status != 400 {
				t.Fatalf("receive with %s: %d %s, want 400", body, r.Status, r.Raw)
			}
		}
		if held, released, forfeited := polDeposits(t, n, "U8001"); held != 2000 || released != 0 || forfeited != 0 || polOrderState(t, n, orderID) != "return_sent" {
			t.Fatalf("after malformed receipts: held %v released %v forfeited %v, order %s", held, released, forfeited, polOrderState(t, n, orderID))
		}
		if out := n.mustCtl("", "orders", "receive", orderID, "--assessment", "intact"); !strings.Contains(out, "returned") {
			t.Fatalf("receive: %s", out)
		}
		if out, err := n.ctl("", "orders", "receive", orderID); err == nil || !strings.Contains(out, "conflict") {
			t.Fatalf("second receipt: %v %s", err, out)
		}
		held, released, forfeited := polDeposits(t, n, "U8001")
		if held != 0 || released != 2000 || forfeited != 0 {
			t.Fatalf("deposit after receipt: held %v released %v forfeited %v", held, released, forfeited)
		}
		polWaitSink(t, n, mail, "return_received", 1)
		polWaitSink(t, n, mail, "deposit_released", 1)
		if out := n.mustCtl("", "audit", "verify"); !strings.Contains(out, "audit trail OK") {
			t.Fatalf("audit: %s", out)
		}
	})
}

// TestLostCardReplacement: a client whose DSC+ is lost gets temporary
// access from Client Services and orders a replacement with it; the lost
// card stops working and its deposit is forfeited. The client activates
// the replacement with the card itself, before the three weeks.
func TestLostCardReplacement(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db, withArgs("--config", polConfigFile(t)))
		values := polUser(t, n, "lars", "U8002", "1500000.00", "US", false)
		mail := "lars@example.test"
		token := polCardLogin(t, n, "lars", values, "portal")
		first := polOrder(t, n, token, "1357", nil).str("order", "id")
		card := filepath.Join(t.TempDir(), "card1.json")
		m := shippedLine.FindStringSubmatch(n.mustCtl("", "orders", "ship", first, "--carrier", "FedEx", "--tracking", "7489", "--out", card))
		n.mustCtl("", "orders", "deliver", first)
		// The client activates the card with the card: a challenge
		// answered with the PIN.
		ch := call(t, "POST", n.url+"/api/v1/lifecycle/orders/"+first+"/activation", token, nil)
		if ch.Status != 201 || len(ch.str("challenge")) != 6 {
			t.Fatalf("activation challenge: %s", ch.Raw)
		}
		act := call(t, "POST", n.url+"/api/v1/lifecycle/orders/"+first+"/activate", token,
			map[string]string{"response": dscRespond(t, card, "1357", ch.str("challenge"))})
		if act.Status != 200 || act.str("state") != "active" {
			t.Fatalf("activate: %s", act.Raw)
		}

		// Lost. Without temporary access the replacement is refused.
		replace := map[string]string{"device_id": m[2], "reason": "lost"}
		if r := call(t, "POST", n.url+"/api/v1/dscplus/orders/preview", token,
			map[string]any{"shipping_address": "Ada Client\n10 Elm St\nSpringfield", "pin": "2580", "replace": replace}); r.Status != 403 || r.str("error", "detail", "condition") != "temporary_access_required" {
			t.Fatalf("replacement without temporary access: %s", r.Raw)
		}
		out := n.mustCtl("", "temppasscode", "issue", "lars", "--verified", "callback to the number on file; agent 7")
		code := regexp.MustCompile(`: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(out)
		if code == nil {
			t.Fatalf("temporary passcode: %s", out)
		}
		r := startLogin(t, n, "lars", "portal")
		c := chooseDevice(t, n, r, "temppasscode")
		done := answer(t, n, c.str("login_id"), code[1])
		if done.Status != 201 {
			t.Fatalf("temporary passcode login: %s", done.Raw)
		}
		temp := done.str("session", "token")
		second := polOrder(t, n, temp, "2580", replace)
		if second.str("order", "origin") != "replacement" {
			t.Fatalf("replacement: %s", second.Raw)
		}
		if polOrderState(t, n, first) != "lost" {
			t.Fatal("the lost card is not marked lost")
		}
		held, released, forfeited := polDeposits(t, n, "U8002")
		if held != 2000 || released != 0 || forfeited != 2000 {
			t.Fatalf("deposits: held %v released %v forfeited %v", held, released, forfeited)
		}
		polWaitSink(t, n, mail, "deposit_forfeited", 1)
		// The lost card no longer logs in: it is not even offered.
		r = startLogin(t, n, "lars", "portal")
		for _, d := range r.Body["devices"].([]any) {
			if d.(map[string]any)["id"] == m[2] {
				t.Fatalf("the lost card is still offered: %s", r.Raw)
			}
		}
		// The replacement ships and, still in transit, is activated by the
		// client holding it.
		secondID := second.str("order", "id")
		card2 := filepath.Join(t.TempDir(), "card2.json")
		n.mustCtl("", "orders", "ship", secondID, "--carrier", "FedEx", "--tracking", "7490", "--out", card2)
		ch = call(t, "POST", n.url+"/api/v1/lifecycle/orders/"+secondID+"/activation", temp, nil)
		if bad := call(t, "POST", n.url+"/api/v1/lifecycle/orders/"+secondID+"/activate", temp,
			map[string]string{"response": dscRespond(t, card, "2580", ch.str("challenge"))}); bad.code() != "bad_response" {
			t.Fatalf("the lost card activating the new one: %s", bad.Raw)
		}
		ch = call(t, "POST", n.url+"/api/v1/lifecycle/orders/"+secondID+"/activation", temp, nil)
		act = call(t, "POST", n.url+"/api/v1/lifecycle/orders/"+secondID+"/activate", temp,
			map[string]string{"response": dscRespond(t, card2, "2580", ch.str("challenge"))})
		if act.Status != 200 || act.str("state") != "active" {
			t.Fatalf("activate the replacement: %s", act.Raw)
		}
	})
}

// TestWithdrawalsTwoNodes races withdrawals through two slsd processes on
// one PostgreSQL: the total booked never passes the limit of the device
// that authenticated the session, and both nodes answer the same.
func TestWithdrawalsTwoNodes(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	dir := t.TempDir()
	a := startNode(t, dsn, withDataDir(dir))
	b := startNode(t, dsn, withDataDir(dir))
	values := polUser(t, a, "wanda", "U8003", "5000000.00", "US", false)
	token := polCardLogin(t, a, "wanda", values, "portal") // Security Code Card: USD 200,000 a day

	first := call(t, "POST", b.url+"/api/v1/withdrawals/check", token, map[string]string{"currency": "USD", "amount": "200000.01"})
	if first.str("allowed") != "false" || first.str("reason") != "above_cap" || first.str("limit", "device_kind") != "codecard" {
		t.Fatalf("check above the cap: %s", first.Raw)
	}
	const n, each = 40, 30000
	var wg sync.WaitGroup
	var mu sync.Mutex
	var booked, refused int
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := a
			if i%2 == 1 {
				node = b
			}
			r := call(t, "POST", node.url+"/api/v1/withdrawals", token,
				map[string]string{"request_id": fmt.Sprintf("race-%d", i), "currency": "USD", "amount": fmt.Sprint(each)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.Status == 201:
				booked++
			case r.Status == 422 && r.code() == "limit_exceeded":
				refused++
			default:
				t.Errorf("withdrawal %d: %d %s", i, r.Status, r.Raw)
			}
		}()
	}
	wg.Wait()
	if booked != 200000/each || refused != n-booked {
		t.Fatalf("booked %d, refused %d; want %d booked", booked, refused, 200000/each)
	}
	for _, node := range []*node{a, b} {
		lim := call(t, "GET", node.url+"/api/v1/withdrawals/limits", token, nil)
		day, _ := lim.Body["day"].(map[string]any)
		if day["used_cents"] != float64(booked*each*100) || day["remaining_cents"] != float64((200000-booked*each)*100) {
			t.Fatalf("limits on %s: %s", node.url, lim.Raw)
		}
	}
	// A retried request is not booked twice, on either node.
	again := call(t, "POST", b.url+"/api/v1/withdrawals", token, map[string]string{"request_id": "race-0", "currency": "USD", "amount": fmt.Sprint(each)})
	if again.Status != 200 && again.code() != "limit_exceeded" {
		t.Fatalf("retry: %s", again.Raw)
	}
	rows := strings.Count(a.mustCtl("", "withdrawals", "U8003"), "wdr_")
	if rows != booked {
		t.Fatalf("%d bookings listed, want %d", rows, booked)
	}
}

// TestProtectionJourney: IP restrictions on trading logins (refused and
// audited from elsewhere), opting out and what it changes, the
// jurisdictions that forbid it, and account closure.
func TestProtectionJourney(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db, withArgs("--config", polConfigFile(t)))
		values := polUser(t, n, "ivan", "U8004", "300000.00", "US", true)
		token := polCardLogin(t, n, "ivan", values, "portal")

		put := call(t, "PUT", n.url+"/api/v1/security/ip-restrictions", token, map[string]any{"ip_restrictions": []string{"10.9.8.0/24", "2001:db8::/48"}})
		if put.Status != 200 || put.str("current_ip_allowed") != "false" {
			t.Fatalf("set IP restrictions: %s", put.Raw)
		}
		// The review's bodies: none of them clears the list, opts out or
		// sends a code; each is 400 and the state is as it was.
		for _, c := range []struct{ method, path, body string }{
			{"PUT", "/api/v1/security/ip-restrictions", `{}`},
			{"PUT", "/api/v1/security/ip-restrictions", `null`},
			{"PUT", "/api/v1/security/ip-restrictions", `{"ip_restrictions":null}`},
			{"PUT", "/api/v1/security/ip-restrictions", `{"ip_restrictions":[]`},
			{"POST", "/api/v1/security/opt-out", `{`},
			{"POST", "/api/v1/security/opt-out", `null`},
			{"POST", "/api/v1/mobile/verify", `{`},
		} {
			if r := call(t, c.method, n.url+c.path, token, c.body); r.Status != 400 || r.code() != "invalid_request" {
				t.Fatalf("%s %s with %s: %d %s, want 400 invalid_request", c.method, c.path, c.body, r.Status, r.Raw)
			}
		}
		if ip := call(t, "GET", n.url+"/api/v1/security/ip-restrictions", token, nil); !strings.Contains(string(ip.Raw), "10.9.8.0/24") {
			t.Fatalf("IP restrictions after malformed bodies: %s", ip.Raw)
		}
		if p := call(t, "GET", n.url+"/api/v1/security/participation", token, nil); p.Status != 200 || p.str("opted_out") != "false" {
			t.Fatalf("participation after malformed bodies: %s", p.Raw)
		}
		r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "ivan", "password": pw, "platform": "trading"})
		// Refused as a wrong password is (no confirmation of the
		// password); audited, and the user is told through their channels.
		if r.Status != 401 || r.code() != "invalid_credentials" {
			t.Fatalf("trading login from elsewhere: %d %s", r.Status, r.Raw)
		}
		n.waitSink("ivan@example.test", "login_refused_ip", 1)
		polWait(t, "the refusal in the audit trail", func() bool {
			out := n.mustCtl("", "audit", "list", "--limit", "10000")
			return strings.Contains(out, "login.refused") && strings.Contains(out, "ip_not_allowed")
		})
		// The portal is not restricted.
		polCardLogin(t, n, "ivan", values, "portal")
		// Support widens them to the client's address.
		if out := n.mustCtl("", "ip-restrictions", "ivan", "127.0.0.1", "10.9.8.0/24"); !strings.Contains(out, "127.0.0.1/32") {
			t.Fatalf("support sets restrictions: %s", out)
		}
		trading := polCardLogin(t, n, "ivan", values, "trading")
		// The restrictions hold for the whole session, not only its login:
		// once 127.0.0.1 is off the list, the live trading session is
		// refused from it (audited), without being ended.
		if s := call(t, "GET", n.url+"/api/v1/session", trading, nil); s.Status != 200 {
			t.Fatalf("trading session from an allowed address: %s", s.Raw)
		}
		n.mustCtl("", "ip-restrictions", "ivan", "10.9.8.0/24")
		if s := call(t, "GET", n.url+"/api/v1/session", trading, nil); s.Status != 403 || s.code() != "ip_not_allowed" {
			t.Fatalf("trading session from an address off the list: %d %s", s.Status, s.Raw)
		}
		polWait(t, "the session refusal in the audit trail", func() bool {
			out := n.mustCtl("", "audit", "list", "--limit", "10000")
			return strings.Contains(out, "session.refused") && strings.Contains(out, "127.0.0.1")
		})
		n.mustCtl("", "ip-restrictions", "ivan", "127.0.0.1", "10.9.8.0/24")
		if s := call(t, "GET", n.url+"/api/v1/session", trading, nil); s.Status != 200 {
			t.Fatalf("trading session back on the list: %s", s.Raw)
		}

		// Opting out: trading with the password alone, portal still 2FA.
		if o := call(t, "POST", n.url+"/api/v1/security/opt-out", token, nil); o.Status != 200 || o.str("opted_out") != "true" {
			t.Fatalf("opt out: %s", o.Raw)
		}
		r = call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "ivan", "password": pw, "platform": "trading"})
		if r.Status != 201 || r.str("state") != "completed" || r.str("session", "session", "device_id") != "" {
			t.Fatalf("opted-out trading login: %s", r.Raw)
		}
		if r := startLogin(t, n, "ivan", "portal"); r.str("state") == "completed" {
			t.Fatalf("opted-out portal login without 2FA: %s", r.Raw)
		}
		// Opted out: the benefits go.
		if b := call(t, "POST", n.url+"/api/v1/benefits/banking-change/check", token, nil); b.str("allowed") != "false" || b.str("condition") != "not_in_sls" {
			t.Fatalf("banking change while opted out: %s", b.Raw)
		}
		if l := call(t, "GET", n.url+"/api/v1/withdrawals/limits", token, nil); l.str("limit", "basis") != "not_in_sls" || l.Body["day"].(map[string]any)["limit_cents"] != 5e6 {
			t.Fatalf("limits while opted out: %s", l.Raw)
		}
		// Penny stocks: allowed with IP restrictions, suspended without.
		if p := call(t, "PUT", n.url+"/api/v1/security/penny-stock", token, map[string]any{"enabled": true}); p.str("effective") != "true" {
			t.Fatalf("penny stock with IP restrictions: %s", p.Raw)
		}
		n.mustCtl("", "ip-restrictions", "ivan", "--none")
		if p := call(t, "GET", n.url+"/api/v1/security/penny-stock", token, nil); p.str("effective") != "false" || p.str("condition") != "ip_restrictions_required" {
			t.Fatalf("penny stock without IP restrictions: %s", p.Raw)
		}
		if o := call(t, "POST", n.url+"/api/v1/security/opt-in", token, nil); o.str("opted_out") != "false" || o.str("always_2fa") != "true" {
			t.Fatalf("opt in: %s", o.Raw)
		}

		// A user without the permission is told who has it; Hong Kong
		// residents cannot opt out at all.
		n.mustCtl(pw+"\n", "user", "create", "--username", "ivana", "--account", "U8004")
		v2 := parseCard(n.codeCard("ivana"))
		t2 := polCardLogin(t, n, "ivana", v2, "portal")
		if o := call(t, "POST", n.url+"/api/v1/security/opt-out", t2, nil); o.Status != 403 || o.str("error", "detail", "holders") != `["ivan"]` {
			t.Fatalf("opt out without the permission: %s", o.Raw)
		}
		hk := polUser(t, n, "hana", "U8005", "10.00", "HK", true)
		t3 := polCardLogin(t, n, "hana", hk, "portal")
		if o := call(t, "POST", n.url+"/api/v1/security/opt-out", t3, nil); o.str("error", "detail", "condition") != "jurisdiction_mandates_2fa" {
			t.Fatalf("opt out in Hong Kong: %s", o.Raw)
		}

		// Account closure: devices off, sessions ended; the portal with the
		// password alone for statements and tax forms, and nothing else.
		out := n.mustCtl("", "close-account", "U8004", "--reason", "client request by phone")
		if !strings.Contains(out, "closed") {
			t.Fatalf("close: %s", out)
		}
		if s := call(t, "GET", n.url+"/api/v1/session", token, nil); s.Status != 401 {
			t.Fatalf("session after closure: %s", s.Raw)
		}
		r = call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "ivan", "password": pw, "platform": "portal"})
		if r.Status != 201 || r.str("state") != "completed" || r.str("session", "session", "scope") != "statements_only" || r.str("session", "session", "device_id") != "" {
			t.Fatalf("portal after closure: %s", r.Raw)
		}
		closed := r.str("session", "token")
		if l := call(t, "GET", n.url+"/api/v1/withdrawals/limits", closed, nil); l.Status != 403 {
			t.Fatalf("withdrawals after closure: %s", l.Raw)
		}
		if d := call(t, "GET", n.url+"/api/v1/devices", closed, nil); d.Status != 403 {
			t.Fatalf("devices after closure: %s", d.Raw)
		}
		if tr := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "ivan", "password": pw, "platform": "trading"}); tr.Status != 403 {
			t.Fatalf("trading after closure: %s", tr.Raw)
		}
		if !strings.Contains(n.mustCtl("", "devices", "ivan"), "revoked") {
			t.Fatal("devices not deactivated")
		}
	})
}
