package portal

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
)

// fakePages adds the confirmation and the penny-stock switch to the fake
// protection service.
type fakePages struct {
	*fakeProtect
	optedOut, ipSet, penny bool
	started, answered      int
}

const fakeConfirmation = "wconf_0123456789abcdefghijklmnop"

func (f *fakePages) StartStepUp(ctx context.Context, sess *sls.Session, u *sls.User, req protect.StepUpRequest) (*protect.StepUpStart, error) {
	f.started++
	return &protect.StepUpStart{ConfirmationID: fakeConfirmation, DeviceID: req.DeviceID, DeviceKind: sls.KindDSCPlus,
		Prompt: &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: "123456"}, Deadline: time.Now().Add(time.Hour), Currency: req.Currency, Amount: req.Amount}, nil
}

func (f *fakePages) AnswerStepUp(ctx context.Context, sess *sls.Session, id, answer string) (*protect.StepUpResult, error) {
	f.answered++
	if id != fakeConfirmation || answer != "87654321" {
		return nil, sls.Errorf(sls.CodeBadResponse, "The response is not correct.")
	}
	return &protect.StepUpResult{Confirmed: true, DeviceKind: sls.KindDSCPlus}, nil
}

func (f *fakePages) PennyStockOf(ctx context.Context, userID string) (*protect.PennyStock, error) {
	ps := &protect.PennyStock{Requested: f.penny, Effective: f.penny}
	if f.optedOut && !f.ipSet {
		ps.Condition, ps.Effective = protect.CondIPRestrictionsRequired, false
	}
	return ps, nil
}

func (f *fakePages) SetPennyStock(ctx context.Context, sess *sls.Session, u *sls.User, enabled bool) (*protect.PennyStock, error) {
	if enabled && f.optedOut && !f.ipSet {
		return nil, sls.Errorf(sls.CodeNotEligible, "IP restrictions first.").WithDetail(policy.DetailCondition, protect.CondIPRestrictionsRequired)
	}
	f.penny = enabled
	return f.PennyStockOf(ctx, u.ID)
}

type fakeReporting struct {
	*fakeLifecycle
	reported []string
}

func (f *fakeReporting) Report(ctx context.Context, u *sls.User, deviceID, what string) (*lifecycle.OrderView, error) {
	f.reported = append(f.reported, deviceID+":"+what)
	return &lifecycle.OrderView{}, nil
}

func newPagesHarness(t *testing.T) (*harness, *fakePages, *fakeReporting) {
	fp := &fakePages{fakeProtect: &fakeProtect{}}
	fr := &fakeReporting{fakeLifecycle: &fakeLifecycle{}}
	h := newHarnessWith(t, Config{}, false, func(d *Deps) { d.Protect, d.Lifecycle = fp, fr })
	return h, fp, fr
}

func TestWithdrawalConfirmationPage(t *testing.T) {
	h, fp, _ := newPagesHarness(t)
	h.user("alice")
	b := h.loggedIn("alice", h.dscCard("alice"))
	if w := b.get("/withdraw"); !strings.Contains(w.body, `href="/withdraw/confirm"`) {
		t.Fatalf("the withdrawal page does not offer the confirmation:\n%s", w.body)
	}
	form := b.get("/withdraw/confirm")
	dev := attr(form.body, "device_id", "value")
	if form.status != 200 || dev == "" {
		t.Fatalf("confirmation form: %d\n%s", form.status, form.body)
	}
	st := b.post("/withdraw/confirm/start", url.Values{"amount": {"250000"}, "currency": {"USD"}, "device_id": {dev}})
	if st.status != http.StatusSeeOther || st.loc != "/withdraw/confirm" || strings.Contains(strings.Join(st.header.Values("Set-Cookie"), ";"), fakeConfirmation) {
		t.Fatalf("start: %d %s %v", st.status, st.loc, st.header.Values("Set-Cookie"))
	}
	ch := b.follow(st)
	if !strings.Contains(ch.body, `data-kind="dscplus"`) || !strings.Contains(ch.body, `action="/withdraw/confirm/answer"`) || strings.Contains(ch.body, fakeConfirmation) {
		t.Fatalf("challenge:\n%s", ch.body)
	}
	bad := b.follow(b.post("/withdraw/confirm/answer", url.Values{"response": {"00000000"}}))
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, `id="page-error"`) || !strings.Contains(bad.body, `data-kind="dscplus"`) {
		t.Fatalf("wrong answer: %d\n%s", bad.status, bad.body)
	}
	if again := b.get("/withdraw/confirm"); fp.answered != 1 || strings.Contains(again.body, `id="page-error"`) {
		t.Fatalf("a reload answered again (%d answers)", fp.answered)
	}
	ok := b.post("/withdraw/confirm/answer", url.Values{"response": {"87654321"}})
	if ok.status != http.StatusSeeOther || ok.loc != "/withdraw" {
		t.Fatalf("right answer: %d %s", ok.status, ok.loc)
	}
	if done := b.follow(ok); !strings.Contains(done.body, `role="status"`) {
		t.Fatalf("result:\n%s", done.body)
	}
	if n := len(fp.recorded); n != 1 || fp.recorded[0].ConfirmationID != fakeConfirmation || fp.recorded[0].Amount != "250000" {
		t.Fatalf("recorded %+v", fp.recorded)
	}
	// The confirmation is used: the page asks for a new one.
	if pg := b.get("/withdraw/confirm"); !strings.Contains(pg.body, `id="confirm-form"`) {
		t.Fatalf("after the confirmation:\n%s", pg.body)
	}
}

func TestPennyStockPage(t *testing.T) {
	h, fp, _ := newPagesHarness(t)
	fp.optedOut = true
	h.user("alice")
	b := h.loggedIn("alice", h.dscCard("alice"))
	pg := b.get("/settings/penny-stock")
	if pg.status != 200 || !strings.Contains(pg.body, `id="penny-condition"`) {
		t.Fatalf("penny page: %d\n%s", pg.status, pg.body)
	}
	if p := b.follow(b.post("/settings/penny-stock", nil)); p.status != http.StatusBadRequest {
		t.Fatalf("no choice: %d", p.status)
	}
	refused := b.follow(b.post("/settings/penny-stock", url.Values{"enabled": {"true"}}))
	if refused.status < 400 || !strings.Contains(refused.body, "IP restrictions") || fp.penny {
		t.Fatalf("refusal: %d\n%s", refused.status, refused.body)
	}
	fp.ipSet = true
	if on := b.follow(b.post("/settings/penny-stock", url.Values{"enabled": {"true"}})); on.status != 200 || !fp.penny ||
		!strings.Contains(on.body, `data-effective="true"`) {
		t.Fatalf("granted: %d\n%s", on.status, on.body)
	}
}

func TestReportDevicePage(t *testing.T) {
	h, _, fr := newPagesHarness(t)
	h.user("alice")
	b := h.loggedIn("alice", h.dscCard("alice"))
	pg := b.get("/settings/report-device")
	m := regexp.MustCompile(`<option value="([^"]+)"`).FindStringSubmatch(pg.body)
	if m == nil {
		t.Fatalf("no device to report:\n%s", pg.body)
	}
	dev := m[1]
	if pg.status != 200 || !strings.Contains(pg.body, `id="report-device-form"`) {
		t.Fatalf("report page: %d\n%s", pg.status, pg.body)
	}
	no := b.follow(b.post("/settings/report-device", url.Values{"device_id": {dev}, "what": {"stolen"}}))
	if no.status != http.StatusBadRequest || len(fr.reported) != 0 || !strings.Contains(no.body, `value="stolen" checked`) {
		t.Fatalf("without the box: %d %v\n%s", no.status, fr.reported, no.body)
	}
	ok := b.follow(b.post("/settings/report-device", url.Values{"device_id": {dev}, "what": {"stolen"}, "confirm": {"on"}}))
	if ok.status != 200 || len(fr.reported) != 1 || fr.reported[0] != dev+":stolen" || !strings.Contains(ok.body, "reported stolen") {
		t.Fatalf("report: %d %v\n%s", ok.status, fr.reported, ok.body)
	}
}
