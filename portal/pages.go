package portal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
	"github.com/secure-login-system/sls/seal"
)

// The pages of flows the API had and the portal did not: confirming a
// withdrawal with a second device, the penny-stock permission, and
// reporting a device lost or stolen outside a replacement order. They use
// the same service calls as the API routes, with the same access.

// Confirmer confirms one withdrawal with a device (*protect.Service; the
// API's /api/v1/withdrawals/confirmations).
type Confirmer interface {
	StartStepUp(ctx context.Context, sess *sls.Session, user *sls.User, req protect.StepUpRequest) (*protect.StepUpStart, error)
	AnswerStepUp(ctx context.Context, sess *sls.Session, confirmationID, answer string) (*protect.StepUpResult, error)
}

// PennyStockSwitch is the penny-stock trading permission
// (*protect.Service; the API's /api/v1/security/penny-stock).
type PennyStockSwitch interface {
	PennyStockOf(ctx context.Context, userID string) (*protect.PennyStock, error)
	SetPennyStock(ctx context.Context, sess *sls.Session, caller *sls.User, enabled bool) (*protect.PennyStock, error)
}

// DeviceReporter records a device lost, stolen or damaged
// (*lifecycle.Service; the API's /api/v1/lifecycle/devices/{id}/report).
type DeviceReporter interface {
	Report(ctx context.Context, user *sls.User, deviceID, what string) (*lifecycle.OrderView, error)
}

var (
	_ Confirmer        = (*protect.Service)(nil)
	_ PennyStockSwitch = (*protect.Service)(nil)
	_ DeviceReporter   = (*lifecycle.Service)(nil)
)

func (p *Portal) confirmer() Confirmer {
	c, _ := p.d.Protect.(Confirmer)
	return c
}

func (p *Portal) pennyStock() PennyStockSwitch {
	s, _ := p.d.Protect.(PennyStockSwitch)
	return s
}

func (p *Portal) reporter() DeviceReporter {
	r, _ := p.d.Lifecycle.(DeviceReporter)
	return r
}

// pageRoutes declares the pages, with the API's access for the same
// operation: a withdrawal's confirmation is itself the device proof
// (ForSession, as /api/v1/withdrawals/confirmations); the penny-stock
// switch is a security setting (ForStepUp, as PUT
// /api/v1/security/penny-stock); a report revokes a device (ForStepUpOrTemporary,
// as /api/v1/lifecycle/devices/{id}/report).
func (p *Portal) pageRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.Protect != nil && p.confirmer() != nil {
		handle("GET /withdraw/confirm", sls.ForSession, p.confirmPage)
		handle("POST /withdraw/confirm/start", sls.ForSession, p.confirmStart)
		handle("POST /withdraw/confirm/answer", sls.ForSession, p.confirmAnswer)
		handle("POST /withdraw/confirm/push", sls.ForSession, p.confirmPush)
		handle("POST /withdraw/confirm/cancel", sls.ForSession, p.confirmCancel)
	}
	if p.d.Protect != nil && p.pennyStock() != nil {
		handle("GET /settings/penny-stock", sls.ForSession, p.pennyPage)
		handle("POST /settings/penny-stock", sls.ForStepUp, p.pennySet)
	}
	if p.d.Lifecycle != nil && p.reporter() != nil {
		handle("GET /settings/report-device", sls.ForSession, p.reportDevicePage)
		handle("POST /settings/report-device", sls.ForStepUpOrTemporary, p.reportDevice)
	}
}

// ---- Withdrawal confirmation with a second device ----

// cookieConfirm holds a withdrawal confirmation in progress, sealed for
// the session: its id is a bearer secret (protect.StepUpStart), so it
// never appears in a page or a URL.
const cookieConfirm = "sls_wconf"

type pendingConfirm struct {
	ID       string         `json:"id"`
	Currency string         `json:"cur"`
	Amount   string         `json:"amt"`
	Payee    string         `json:"payee,omitempty"`
	Kind     sls.DeviceKind `json:"kind"`
	Prompt   *sls.Prompt    `json:"prompt,omitempty"`
	Deadline time.Time      `json:"deadline"`
	// RequestID books the withdrawal once, however often the last step is
	// posted.
	RequestID string `json:"rid"`
}

func confirmPlace(sessionID string) seal.Place {
	return seal.Place{Table: "portal", Column: "withdrawal_confirmation", Row: sessionID}
}

func (q *req) pendingConfirm() (*pendingConfirm, bool) {
	v := q.cookie(cookieConfirm)
	if v == "" || len(v) > 4000 {
		return nil, false
	}
	ct, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, false
	}
	b, err := q.p.d.Sealer.Open(confirmPlace(q.ss.ID), ct)
	if err != nil {
		q.clearCookie(cookieConfirm)
		return nil, false
	}
	var c pendingConfirm
	if json.Unmarshal(b, &c) != nil || c.ID == "" {
		q.clearCookie(cookieConfirm)
		return nil, false
	}
	if !c.Deadline.IsZero() && !q.p.now().Before(c.Deadline) {
		q.clearCookie(cookieConfirm)
		return nil, false
	}
	return &c, true
}

func (q *req) setPendingConfirm(c *pendingConfirm) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	ct, err := q.p.d.Sealer.Seal(confirmPlace(q.ss.ID), b)
	if err != nil {
		return err
	}
	ttl := int(time.Until(c.Deadline).Seconds()) + 60
	if ttl < 60 || ttl > 3600 {
		ttl = 600
	}
	q.setCookie(cookieConfirm, base64.RawURLEncoding.EncodeToString(ct), ttl)
	return nil
}

type confirmPageData struct {
	Devices    []*sls.Device
	DeviceID   string
	Amount     string
	Currency   string
	Currencies []string
	Payee      string
}

// confirmPage asks for the withdrawal and the device to confirm it with,
// or shows the chosen device's challenge while one waits.
func (p *Portal) confirmPage(q *req) {
	if c, ok := q.pendingConfirm(); ok && c.Prompt != nil {
		cp := challengePage{Action: "/withdraw/confirm", Kind: c.Kind, Prompt: c.Prompt, Deadline: c.Deadline,
			Intro: q.t("wconfirm.challenge_intro", c.Amount+" "+c.Currency)}
		if m, err := protect.ParseAmount(c.Currency, c.Amount); err == nil {
			cp.Intro = q.t("wconfirm.challenge_intro", formatMoney(q.lang, c.Currency, m.Minor))
		}
		switch c.Kind {
		case sls.KindCodeCard, sls.KindOnlineCard:
			if len(c.Prompt.Indices) == 2 {
				cp.Index1, cp.Index2 = c.Prompt.Indices[0], c.Prompt.Indices[1]
			}
		case sls.KindDSCPlus:
			var sp struct {
				Mode string `json:"mode"`
				factor.SignParts
			}
			if json.Unmarshal(c.Prompt.Extra, &sp) == nil && sp.Mode == "sign" {
				cp.Sign = &sp.SignParts
			}
		case sls.KindIBKey:
			x := readPushExtra(c.Prompt)
			cp.Push, cp.PushReason, cp.PushExpiresAt = x.Push, x.Reason, x.PushExpiresAt
		}
		var opts []renderOpt
		if c.Kind == sls.KindPasskey {
			opts = append(opts, withPasskeyScript())
		}
		q.render("challenge", q.t("wconfirm.title"), cp, opts...)
		return
	}
	devs, err := p.d.Manage.Devices(q.r.Context(), q.u.ID)
	if err != nil {
		q.fail(err)
		return
	}
	now := p.now()
	pg := confirmPageData{Currencies: []string{"USD"}, Currency: "USD",
		Amount: q.formValue("amount"), Payee: q.formValue("payee"), DeviceID: q.formValue("device_id")}
	if cur := q.formValue("currency"); cur != "" {
		pg.Currency = cur
	}
	if acct, err := p.accountCurrency(q); err == nil && acct != "USD" {
		pg.Currencies = append(pg.Currencies, acct)
	}
	for _, d := range activeFirst(devs) {
		if d.Usable(now) && !d.Kind.Temporary() {
			pg.Devices = append(pg.Devices, d)
		}
	}
	if pg.DeviceID == "" && len(pg.Devices) > 0 {
		pg.DeviceID = pg.Devices[0].ID
	}
	q.render("withdraw_confirm", q.t("wconfirm.title"), pg)
}

var confirmFields = []string{"amount", "currency", "payee", "device_id"}

// confirmStart challenges the chosen device for this withdrawal.
func (p *Portal) confirmStart(q *req) {
	f := q.r.PostForm
	st, err := p.confirmer().StartStepUp(q.r.Context(), q.ss, q.u, protect.StepUpRequest{DeviceID: f.Get("device_id"),
		Currency: f.Get("currency"), Amount: strings.TrimSpace(f.Get("amount")), Payee: f.Get("payee")})
	if err != nil {
		q.back("/withdraw/confirm", statusOf(err), q.errText(err), confirmFields...)
		return
	}
	c := &pendingConfirm{ID: st.ConfirmationID, Currency: st.Currency, Amount: st.Amount, Payee: st.Payee, Kind: st.DeviceKind,
		Prompt: st.Prompt, Deadline: st.Deadline, RequestID: newRequestID(p.d.Rand)}
	if err := q.setPendingConfirm(c); err != nil {
		q.fail(err)
		return
	}
	if p.d.IBKey != nil && st.DeviceKind == sls.KindIBKey {
		p.d.IBKey.Poke(q.u.ID)
	}
	q.redirect("/withdraw/confirm")
}

func (p *Portal) confirmAnswer(q *req) {
	ans := strings.TrimSpace(answerOf(q.r))
	if ans == "" {
		q.back("/withdraw/confirm", http.StatusBadRequest, q.t("err.answer_empty"))
		return
	}
	p.finishConfirm(q, ans)
}

// confirmPush goes on once the IB Key notification was approved.
func (p *Portal) confirmPush(q *req) { p.finishConfirm(q, "") }

// finishConfirm checks the answer; a right one books the withdrawal with
// the confirmation, whose device then sets the limit (SPEC §4).
func (p *Portal) finishConfirm(q *req, answer string) {
	c, ok := q.pendingConfirm()
	if !ok {
		q.back("/withdraw/confirm", http.StatusBadRequest, q.t("wconfirm.expired"))
		return
	}
	fields := url2fields(c)
	if _, err := p.confirmer().AnswerStepUp(q.r.Context(), q.ss, c.ID, answer); err != nil {
		switch sls.ErrorCode(err) {
		case sls.CodeBadResponse:
			q.back("/withdraw/confirm", statusOf(err), q.errText(err)) // the same challenge again
		case sls.CodeConflict:
			q.back("/withdraw/confirm", http.StatusConflict, q.t("err.push_not_approved"))
		default: // used up, expired, locked: start again
			q.clearCookie(cookieConfirm)
			q.redirectWith("/withdraw/confirm", flash{Error: q.errText(err), Status: statusOf(err), Fields: fields})
		}
		return
	}
	ans, err := p.d.Protect.RecordWithdrawal(q.r.Context(), q.ss, q.u, protect.MoneyRequest{RequestID: c.RequestID,
		Currency: c.Currency, Amount: c.Amount, ConfirmationID: c.ID, Payee: c.Payee})
	q.clearCookie(cookieConfirm)
	if err != nil {
		msg := q.errText(err)
		if sls.ErrorCode(err) == sls.CodeLimitExceeded && ans != nil {
			msg = q.t("withdraw.refused", q.t("device."+string(ans.Limit.DeviceKind)))
		}
		q.redirectWith("/withdraw/confirm", flash{Error: msg, Status: statusOf(err), Fields: fields})
		return
	}
	q.redirectWith("/withdraw", flash{Notice: q.t("wconfirm.recorded", formatMoney(q.lang, ans.Currency, amountMinor(ans)),
		q.t("device."+string(ans.Limit.DeviceKind)))})
}

// url2fields are a confirmation's non-secret values, to fill the form in
// again after a refusal.
func url2fields(c *pendingConfirm) map[string]string {
	return map[string]string{"amount": c.Amount, "currency": c.Currency, "payee": c.Payee}
}

func (p *Portal) confirmCancel(q *req) {
	q.clearCookie(cookieConfirm)
	q.redirect("/withdraw")
}

// ---- Penny-stock permission ----

type pennyPageData struct {
	State *protect.PennyStock
	// IPRequired: the switch needs IP restrictions first (an opted-out
	// user without them, SPEC §5).
	IPRequired bool
}

func (p *Portal) pennyPage(q *req) {
	st, err := p.pennyStock().PennyStockOf(q.r.Context(), q.u.ID)
	if err != nil {
		q.fail(err)
		return
	}
	q.render("penny", q.t("penny.title"), pennyPageData{State: st, IPRequired: st.Condition == protect.CondIPRestrictionsRequired})
}

func (p *Portal) pennySet(q *req) {
	var enable bool
	switch q.r.PostFormValue("enabled") {
	case "true":
		enable = true
	case "false":
	default: // never read a missing field as "off" (as the API)
		q.back("/settings/penny-stock", http.StatusBadRequest, q.t("err.form"))
		return
	}
	if _, err := p.pennyStock().SetPennyStock(q.r.Context(), q.ss, q.u, enable); err != nil {
		msg := q.errText(err)
		var e *sls.Error
		if errors.As(err, &e) && e.Detail[policy.DetailCondition] == protect.CondIPRestrictionsRequired {
			msg = q.t("penny.cond.ip_restrictions_required")
		}
		q.back("/settings/penny-stock", statusOf(err), msg)
		return
	}
	n := "penny_off"
	if enable {
		n = "penny_on"
	}
	q.redirectWith("/settings/penny-stock", flash{Notice: q.t("notice." + n)})
}

// ---- Reporting a device lost or stolen ----

type reportDevicePage struct {
	Devices  []*sls.Device
	DeviceID string
	What     string
	Whats    []string
	// Reported: the device just reported (a replacement may be ordered).
	CanOrder bool
}

func (p *Portal) reportDevicePage(q *req) {
	sec, ok := p.ownLifecycleSection(q)
	if !ok {
		return
	}
	pg := reportDevicePage{Devices: sec.Returnable, DeviceID: q.formValue("device_id"), What: q.formValue("what"),
		Whats: []string{"lost", "stolen"}, CanOrder: sec.CanOrder}
	q.render("report_device", q.t("reportdev.title"), pg)
}

func (p *Portal) reportDevice(q *req) {
	keep := []string{"device_id", "what"}
	if q.r.PostFormValue("confirm") != "on" {
		q.back("/settings/report-device", http.StatusBadRequest, q.t("reportdev.confirm_needed"), keep...)
		return
	}
	what := q.r.PostFormValue("what")
	if what != "lost" && what != "stolen" {
		q.back("/settings/report-device", http.StatusBadRequest, q.t("err.form"), keep...)
		return
	}
	if _, err := p.reporter().Report(q.r.Context(), q.u, q.r.PostFormValue("device_id"), what); err != nil {
		q.back("/settings/report-device", statusOf(err), p.lifecycleError(q, err), keep...)
		return
	}
	q.redirectWith("/settings/report-device", flash{Notice: q.t("reportdev.reported_" + what)})
}
