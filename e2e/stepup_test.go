package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stepUpDevice returns the id of the device of kind offered for a step-up.
func stepUpDevice(t *testing.T, n *node, token, kind string) string {
	t.Helper()
	r := call(t, "GET", n.url+"/api/v1/stepup/devices", token, nil)
	if r.Status != 200 {
		t.Fatalf("step-up devices: %d %s", r.Status, r.Raw)
	}
	devs, _ := r.Body["devices"].([]any)
	for _, d := range devs {
		if m := d.(map[string]any); m["kind"] == kind {
			return m["id"].(string)
		}
	}
	t.Fatalf("no %s device offered for a step-up: %s", kind, r.Raw)
	return ""
}

func startStepUp(t *testing.T, n *node, token, deviceID string) apiResult {
	t.Helper()
	r := call(t, "POST", n.url+"/api/v1/stepup", token, map[string]any{"device_id": deviceID})
	if r.Status != 201 || r.str("stepup_id") == "" {
		t.Fatalf("step-up start: %d %s", r.Status, r.Raw)
	}
	return r
}

func answerStepUp(t *testing.T, n *node, token, id, response string) apiResult {
	t.Helper()
	return call(t, "POST", n.url+"/api/v1/stepup/answer", token, map[string]any{"stepup_id": id, "response": response})
}

// TestSessionStepUpDSCPlus: a DSC+ session whose proof is older than the
// step-up window proves the card again inside the session; the session's
// proven_at moves, a wrong answer counts toward the user's lockout, and
// another session cannot answer the step-up.
func TestSessionStepUpDSCPlus(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		clk := filepath.Join(t.TempDir(), "clock")
		n := startNode(t, db, withClockFile(clk))
		setupUser(t, n, "stella", "U8001")
		card := filepath.Join(t.TempDir(), "card.json")
		n.mustCtl("", "dscplus", "issue", "stella", "--pin", "2468", "--out", card)
		login := func() string {
			r := chooseDevice(t, n, startLogin(t, n, "stella", "portal"), "dscplus")
			done := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge")))
			if done.Status != 201 {
				t.Fatalf("DSC+ login: %s", done.Raw)
			}
			return done.str("session", "token")
		}
		token := login()
		s0 := call(t, "GET", n.url+"/api/v1/session", token, nil)
		if s0.str("proven_kind") != "dscplus" || s0.str("proven_at") == "" {
			t.Fatalf("session after login: %s", s0.Raw)
		}
		provenAtLogin, _ := time.Parse(time.RFC3339Nano, s0.str("proven_at"))

		setClock(t, clk, 6*time.Minute) // past the 5-minute step-up window
		dev := stepUpDevice(t, n, token, "dscplus")
		up := startStepUp(t, n, token, dev)
		if len(up.str("prompt", "challenge")) != 6 || up.str("attempts_left") != "5" {
			t.Fatalf("step-up prompt: %s", up.Raw)
		}

		// A wrong answer counts: on the step-up and on the user's lockout.
		bad := answerStepUp(t, n, token, up.str("stepup_id"), dscRespond(t, card, "1357", up.str("prompt", "challenge")))
		if bad.Status != 401 || bad.code() != "bad_response" || bad.str("error", "detail", "attempts_left") != "4" {
			t.Fatalf("wrong answer: %d %s", bad.Status, bad.Raw)
		}
		if audit := n.mustCtl("", "audit", "list", "--limit", "10000"); !strings.Contains(audit, `"purpose":"step_up"`) {
			t.Fatalf("the failed step-up is not in the audit trail:\n%s", lastLines(audit, 10))
		}

		// Another session of the same user cannot answer it.
		other := login()
		if r := answerStepUp(t, n, other, up.str("stepup_id"), "x"); r.code() != "not_found" {
			t.Fatalf("another session answered: %s", r.Raw)
		}

		ok := answerStepUp(t, n, token, up.str("stepup_id"), dscRespond(t, card, "2468", up.str("prompt", "challenge")))
		if ok.Status != 200 || ok.str("proven") != "true" || ok.str("proven_kind") != "dscplus" {
			t.Fatalf("right answer: %d %s", ok.Status, ok.Raw)
		}
		s1 := call(t, "GET", n.url+"/api/v1/session", token, nil)
		provenAt, _ := time.Parse(time.RFC3339Nano, s1.str("proven_at"))
		if s1.str("proven_kind") != "dscplus" || provenAt.Sub(provenAtLogin) < 6*time.Minute {
			t.Fatalf("proven_at did not move: %s -> %s", s0.str("proven_at"), s1.str("proven_at"))
		}
		if r := answerStepUp(t, n, token, up.str("stepup_id"), "x"); r.code() != "conflict" {
			t.Fatalf("answered twice: %s", r.Raw)
		}
		if !ibkAuditHas(t, n, "session.stepped_up") {
			t.Fatal("session.stepped_up not audited")
		}
	})
}

// TestSessionStepUpIBKey: IB Key steps a session up by challenge/response
// and by an approved push; a pending push is no answer yet.
func TestSessionStepUpIBKey(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		dir := t.TempDir()
		vic := newIBKUser(t, n, "vic", "U8101")
		st := filepath.Join(dir, "phone.json")
		ibkActivateQR(t, n, vic.session(t, n, "portal"), st, "android")
		token := vic.session(t, n, "portal") // a code card session
		dev := stepUpDevice(t, n, token, "ibkey")

		// Challenge/response.
		up := startStepUp(t, n, token, dev)
		if r := answerStepUp(t, n, token, up.str("stepup_id"), ""); r.code() != "conflict" {
			t.Fatalf("empty answer to a pending push: %s", r.Raw)
		}
		resp := strings.TrimSpace(ibkMust(t, st, ibkPIN+"\n", "respond", "--challenge", up.str("prompt", "challenge"), "--pin-stdin"))
		ok := answerStepUp(t, n, token, up.str("stepup_id"), resp)
		if ok.Status != 200 || ok.str("proven_kind") != "ibkey" {
			t.Fatalf("challenge/response step-up: %d %s", ok.Status, ok.Raw)
		}
		if s := call(t, "GET", n.url+"/api/v1/session", token, nil); s.str("proven_kind") != "ibkey" || s.str("device_kind") != "codecard" {
			t.Fatalf("session after step-up: %s", s.Raw)
		}

		// Push with number matching.
		nums := ibkNumbers(filepath.Join(dir, "numbers"))
		l := ibkStartListener(t, st, "--approve-number-from", string(nums))
		up = startStepUp(t, n, token, dev)
		pushID, number := up.str("prompt", "extra", "push_id"), up.str("prompt", "match_number")
		if pushID == "" || number == "" {
			t.Fatalf("no push for the step-up: %s", up.Raw)
		}
		if ev := l.next(t, "push", 5*time.Second); ev["push_id"] != pushID {
			t.Fatalf("push event: %v", ev)
		}
		nums.add(t, pushID, number)
		if ev := l.next(t, "answered", 5*time.Second); ev["state"] != "approved" {
			t.Fatalf("push answer: %v", ev)
		}
		ok = answerStepUp(t, n, token, up.str("stepup_id"), "")
		if ok.Status != 200 || ok.str("proven_kind") != "ibkey" {
			t.Fatalf("push step-up: %d %s", ok.Status, ok.Raw)
		}
	})
}
