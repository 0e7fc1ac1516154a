package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sinkMessage is one line of `slsctl sink list`.
type sinkMessage struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	To      string `json:"to"`
	Kind    string `json:"kind"`
	Lang    string `json:"lang"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// sink lists the messages the local sink received, filtered.
func (n *node) sink(to, kind string) []sinkMessage {
	n.t.Helper()
	args := []string{"sink", "list"}
	if to != "" {
		args = append(args, "--to", to)
	}
	if kind != "" {
		args = append(args, "--kind", kind)
	}
	var out []sinkMessage
	for _, line := range strings.Split(strings.TrimSpace(n.mustCtl("", args...)), "\n") {
		if line == "" {
			continue
		}
		var m sinkMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			n.t.Fatalf("sink line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// waitSink waits until the sink holds at least want messages matching.
func (n *node) waitSink(to, kind string, want int) []sinkMessage {
	n.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msgs := n.sink(to, kind)
		if len(msgs) >= want {
			return msgs
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("sink has %d %s messages to %s, want %d", len(msgs), kind, to, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// codeOf reads the code out of a delivered message (a voice text spells
// the digits out one by one).
func codeOf(t *testing.T, m sinkMessage) string {
	t.Helper()
	if m.Channel == "voice" {
		var digits strings.Builder
		for _, r := range m.Body {
			if r >= '0' && r <= '9' {
				digits.WriteRune(r)
			}
		}
		if digits.Len() != 6 {
			t.Fatalf("voice text holds %q", digits.String())
		}
		return digits.String()
	}
	c := sixDigits.FindStringSubmatch(m.Body)
	if c == nil {
		t.Fatalf("no code in %q", m.Body)
	}
	return c[1]
}

const mobile = "+12015550123"

// tempPasscodeSession logs a new user in with a temporary passcode (how a
// client without any device gets in) and returns the session token.
func tempPasscodeSession(t *testing.T, n *node, user string) string {
	t.Helper()
	out := n.mustCtl("", "temppasscode", "issue", user, "--verified", "callback to the number on file")
	code := regexp.MustCompile(`: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(out)
	if code == nil {
		t.Fatalf("passcode: %s", out)
	}
	r := chooseDevice(t, n, startLogin(t, n, user, "portal"), "temppasscode")
	done := answer(t, n, r.str("login_id"), code[1])
	if done.Status != 201 {
		t.Fatalf("passcode login: %s", done.Raw)
	}
	return done.str("session", "token")
}

// verifyMobile runs VERIFY → code by SMS → confirm.
func verifyMobile(t *testing.T, n *node, token, number string) apiResult {
	t.Helper()
	before := len(n.sink(number, "phone_verify_code"))
	if r := call(t, "POST", n.url+"/api/v1/mobile/verify", token, map[string]any{"mobile": number}); r.Status != 202 {
		t.Fatalf("verify: %s", r.Raw)
	}
	msgs := n.waitSink(number, "phone_verify_code", before+1)
	return call(t, "POST", n.url+"/api/v1/mobile/confirm", token, map[string]any{"code": codeOf(t, msgs[len(msgs)-1])})
}

func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sls.json")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSMSJourney(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		clk := filepath.Join(t.TempDir(), "clock")
		n := startNode(t, db, withClockFile(clk))
		setupUser(t, n, "sara", "U6006")
		_, token := onlineCardSession(t, n, "sara")

		// Numbers that must never receive codes are refused when set, with
		// the rule that failed, and nothing is sent: a premium-rate number
		// (SMS pumping), a toll-free one, one that is not valid.
		for number, reason := range map[string]string{"+44 909 879 0123": "number_type", "+1 800 234 5678": "number_type", "+1 555 555 0123": "invalid_number"} {
			r := call(t, "POST", n.url+"/api/v1/mobile/verify", token, map[string]any{"mobile": number})
			if r.Status != 400 || r.code() != "invalid_argument" || r.str("error", "detail", "reason") != reason {
				t.Fatalf("verify %s: %d %s, want 400 invalid_argument %s", number, r.Status, r.Raw, reason)
			}
		}
		if got := n.sink("+449098790123", "phone_verify_code"); len(got) != 0 {
			t.Fatalf("a code went to a premium-rate number: %v", got)
		}

		// Verify the number: SMS verified, and SMS login enrolled.
		conf := verifyMobile(t, n, token, mobile)
		if conf.Status != 200 || conf.str("verified") != "true" || conf.str("sms_login") != "true" {
			t.Fatalf("confirm: %s", conf.Raw)
		}

		// Log in with SMS: the code arrives in the sink.
		r := chooseDevice(t, n, startLogin(t, n, "sara", "trading"), "sms")
		msgs := n.waitSink(mobile, "login_code_sms", 1)
		first := codeOf(t, msgs[0])
		// Resend too early is refused and sends nothing.
		early := call(t, "POST", n.url+"/api/v1/login/resend", "", map[string]any{"login_id": r.str("login_id"), "channel": "sms"})
		if early.code() != "rate_limited" {
			t.Fatalf("early resend: %s", early.Raw)
		}
		if got := len(n.sink(mobile, "login_code_sms")); got != 1 {
			t.Fatalf("early resend sent something: %d messages", got)
		}
		// Nor does choosing the SMS device again, or a second login: the
		// code already sent stands until the interval is over.
		var devID string
		for _, d := range r.Body["devices"].([]any) {
			if m := d.(map[string]any); m["kind"] == "sms" {
				devID = m["id"].(string)
			}
		}
		if again := call(t, "POST", n.url+"/api/v1/login/device", "", map[string]any{"login_id": r.str("login_id"), "device_id": devID}); again.Status != 200 {
			t.Fatalf("choose SMS again: %s", again.Raw)
		}
		chooseDevice(t, n, startLogin(t, n, "sara", "trading"), "sms")
		time.Sleep(300 * time.Millisecond) // let a wrongly queued message reach the sink
		if got := len(n.sink(mobile, "login_code_sms")); got != 1 {
			t.Fatalf("re-selecting SMS sent more codes: %d messages", got)
		}
		// After two minutes: the voice call reads a new code; the old one is dead.
		setClock(t, clk, 2*time.Minute+time.Second)
		voice := call(t, "POST", n.url+"/api/v1/login/resend", "", map[string]any{"login_id": r.str("login_id"), "channel": "voice"})
		if voice.Status != 200 {
			t.Fatalf("voice resend: %s", voice.Raw)
		}
		vm := n.waitSink(mobile, "login_code_voice", 1)
		if vm[0].Channel != "voice" {
			t.Fatalf("voice message on %s", vm[0].Channel)
		}
		if old := answer(t, n, r.str("login_id"), first); old.code() != "bad_response" {
			t.Fatalf("replaced code accepted: %s", old.Raw)
		}
		done := answer(t, n, r.str("login_id"), codeOf(t, vm[0]))
		if done.Status != 201 || done.str("session", "session", "device_kind") != "sms" {
			t.Fatalf("voice code login: %s", done.Raw)
		}
		// Reusing a code: the login completed once.
		if again := answer(t, n, r.str("login_id"), codeOf(t, vm[0])); again.code() != "login_completed" {
			t.Fatalf("reuse: %s", again.Raw)
		}

		// An expired code is refused.
		setClock(t, clk, 10*time.Minute)
		r = chooseDevice(t, n, startLogin(t, n, "sara", "portal"), "sms")
		msgs = n.waitSink(mobile, "login_code_sms", 2)
		setClock(t, clk, 21*time.Minute)
		if late := answer(t, n, r.str("login_id"), codeOf(t, msgs[len(msgs)-1])); late.code() != "login_expired" {
			t.Fatalf("expired code: %s", late.Raw)
		}

		// A new number: audited, told to the old number, SMS login suspended.
		setClock(t, clk, 30*time.Minute)
		token = tempPasscodeOrSMS(t, n, "sara")
		const newNumber = "+36301234567"
		if conf := verifyMobile(t, n, token, newNumber); conf.Status != 200 || conf.str("mobile") != newNumber {
			t.Fatalf("change: %s", conf.Raw)
		}
		if old := n.waitSink(mobile, "phone_number_changed", 1); !strings.Contains(old[0].Body, "4567") {
			t.Fatalf("old number's notice: %+v", old[0])
		}
		for _, d := range devicesOffered(t, n, "sara") {
			if d == "sms" {
				t.Fatal("SMS login offered right after a number change")
			}
		}
		if out := n.mustCtl("", "audit", "list", "--limit", "1000"); !strings.Contains(out, "mobile.changed") {
			t.Fatalf("number change not audited:\n%s", out)
		}
		setClock(t, clk, 30*time.Minute+73*time.Hour)
		found := false
		for _, d := range devicesOffered(t, n, "sara") {
			found = found || d == "sms"
		}
		if !found {
			t.Fatal("SMS login not back after the suspension")
		}
	})
}

// tempPasscodeOrSMS gets a portal session by SMS (the user has one).
func tempPasscodeOrSMS(t *testing.T, n *node, user string) string {
	t.Helper()
	before := len(n.sink(mobile, "login_code_sms"))
	r := chooseDevice(t, n, startLogin(t, n, user, "portal"), "sms")
	msgs := n.waitSink(mobile, "login_code_sms", before+1)
	done := answer(t, n, r.str("login_id"), codeOf(t, msgs[len(msgs)-1]))
	if done.Status != 201 {
		t.Fatalf("sms login: %s", done.Raw)
	}
	return done.str("session", "token")
}

// devicesOffered lists the kinds a new login offers.
func devicesOffered(t *testing.T, n *node, user string) []string {
	t.Helper()
	r := startLogin(t, n, user, "portal")
	var kinds []string
	if devs, ok := r.Body["devices"].([]any); ok {
		for _, d := range devs {
			kinds = append(kinds, d.(map[string]any)["kind"].(string))
		}
	}
	return kinds
}

func TestSMSCaps(t *testing.T) {
	cfg := writeConfig(t, `{"sms": {"max_per_user_day": 3, "resend_interval": "1s"}}`)
	n := startNode(t, "", withArgs("--config", cfg))
	setupUser(t, n, "cap", "U6106")
	_, token := onlineCardSession(t, n, "cap")
	if conf := verifyMobile(t, n, token, mobile); conf.Status != 200 {
		t.Fatalf("confirm: %s", conf.Raw)
	}
	r := chooseDevice(t, n, startLogin(t, n, "cap", "portal"), "sms") // second code of the day
	time.Sleep(1100 * time.Millisecond)
	if ok := call(t, "POST", n.url+"/api/v1/login/resend", "", map[string]any{"login_id": r.str("login_id")}); ok.Status != 200 {
		t.Fatalf("third code: %s", ok.Raw)
	}
	time.Sleep(1100 * time.Millisecond)
	capped := call(t, "POST", n.url+"/api/v1/login/resend", "", map[string]any{"login_id": r.str("login_id")})
	if capped.code() != "rate_limited" || capped.str("error", "detail", "cap") != "per user per day" {
		t.Fatalf("fourth code: %s", capped.Raw)
	}
	time.Sleep(500 * time.Millisecond)
	if got := len(n.sink(mobile, "")); got != 3 {
		t.Fatalf("sink holds %d codes, want 3", got)
	}
}

func TestSecureMessageSummaryOnly(t *testing.T) {
	n := startNode(t, "")
	n.mustCtl("", "account", "create", "--id", "U6206", "--currency", "USD", "--jurisdiction", "US")
	n.mustCtl(pw+"\n", "user", "create", "--username", "mia", "--account", "U6206", "--email", "mia@example.test")
	const body = "Your wire of USD 12,345.67 to account 99887766 was rejected: TOP-SECRET-BODY"
	n.mustCtl(body, "message", "send", "mia", "--summary", "A message about your wire transfer")
	msgs := n.waitSink("mia@example.test", "secure_message_summary", 1)
	m := msgs[0]
	if m.Channel != "email" || !strings.Contains(m.Body, "wire transfer") {
		t.Fatalf("notice: %+v", m)
	}
	for _, secret := range []string{"TOP-SECRET-BODY", "99887766", "12,345.67"} {
		if strings.Contains(m.Body+m.Subject, secret) {
			t.Fatalf("the notice carries the body (%q): %+v", secret, m)
		}
	}
	// The message center shows the body.
	token := tempPasscodeSession(t, n, "mia")
	list := call(t, "GET", n.url+"/api/v1/messages", token, nil)
	if !strings.Contains(string(list.Raw), "TOP-SECRET-BODY") {
		t.Fatalf("message center: %s", list.Raw)
	}
}

func TestPreferencesLanguage(t *testing.T) {
	n := startNode(t, "")
	n.mustCtl("", "account", "create", "--id", "U6306", "--currency", "USD", "--jurisdiction", "US")
	n.mustCtl(pw+"\n", "user", "create", "--username", "hugo", "--account", "U6306", "--email", "hugo@example.test")
	_, token := onlineCardSession(t, n, "hugo")
	bad := call(t, "PUT", n.url+"/api/v1/preferences", token, map[string]any{"primary_lang": "xx"})
	if bad.code() != "invalid_argument" {
		t.Fatalf("bad language: %s", bad.Raw)
	}
	ok := call(t, "PUT", n.url+"/api/v1/preferences", token, map[string]any{"primary_lang": "hu", "secondary_lang": "en"})
	if ok.Status != 200 {
		t.Fatalf("preferences: %s", ok.Raw)
	}
	n.mustCtl("Részletek a portálon.", "message", "send", "hugo", "--summary", "Új üzenet")
	m := n.waitSink("hugo@example.test", "secure_message_summary", 1)[0]
	if m.Lang != "hu" {
		t.Fatalf("notice language %q, want hu: %+v", m.Lang, m)
	}
}

func TestOutboxSurvivesKill(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		dir := t.TempDir()
		queueOnly := writeConfig(t, `{"notify": {"workers": 0}}`)
		n := startNode(t, db, withDataDir(dir), withArgs("--config", queueOnly))
		n.mustCtl("", "account", "create", "--id", "U6406", "--currency", "USD", "--jurisdiction", "US")
		n.mustCtl(pw+"\n", "user", "create", "--username", "olga", "--account", "U6406", "--email", "olga@example.test")
		for i := 0; i < 5; i++ {
			n.mustCtl("body", "message", "send", "olga", "--summary", "Statement ready")
		}
		// Committed, not delivered: then the process dies.
		if pending := strings.Count(n.mustCtl("", "outbox", "list"), "\n"); pending != 5 {
			t.Fatalf("%d pending messages, want 5", pending)
		}
		n.kill()
		// Two nodes with workers start on the same data; each message is
		// delivered exactly once.
		n2 := startNode(t, db, withDataDir(dir))
		if db != "" {
			startNode(t, db, withDataDir(dir)) // a second worker on another node
		}
		n2.waitSink("olga@example.test", "secure_message_summary", 5)
		time.Sleep(time.Second)
		if msgs := n2.sink("olga@example.test", ""); len(msgs) != 5 {
			t.Fatalf("%d messages delivered, want exactly 5", len(msgs))
		}
		if out := n2.mustCtl("", "outbox", "list", "--state", "sent"); strings.Count(out, "\n") != 5 {
			t.Fatalf("sent list:\n%s", out)
		}
	})
}
