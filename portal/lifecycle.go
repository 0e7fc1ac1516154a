package portal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/seal"
)

// Lifecycle is what the pages need of the device lifecycle feature
// (*lifecycle.Service): ordering a DSC+, activating it on delivery, and
// returning devices (SPEC §6).
type Lifecycle interface {
	Form(ctx context.Context, sess *sls.Session, u *sls.User) (*lifecycle.OrderForm, error)
	Preview(ctx context.Context, sess *sls.Session, u *sls.User, req lifecycle.OrderRequest) (*lifecycle.Summary, error)
	Place(ctx context.Context, sess *sls.Session, u *sls.User, req lifecycle.OrderRequest) (*lifecycle.Confirmation, error)
	StartActivation(ctx context.Context, u *sls.User, orderID string) (*lifecycle.ActivationChallenge, error)
	Activate(ctx context.Context, u *sls.User, orderID, response string) (*lifecycle.OrderView, error)
	ReturnAddressFor(ctx context.Context, u *sls.User) (*lifecycle.ReturnAddress, error)
	SendReturn(ctx context.Context, u *sls.User, req lifecycle.ReturnRequest) (*lifecycle.ReturnAnswer, error)
	ConfirmDestroyed(ctx context.Context, u *sls.User, deviceID string, confirm bool) (*sls.Device, error)
}

var _ Lifecycle = (*lifecycle.Service)(nil)

// lifecycleSection is the part of Settings → Secure Login System about
// physical devices.
type lifecycleSection struct {
	Form     *lifecycle.OrderForm
	CanOrder bool
	// Returnable: physical devices to send back; Destroyable: printed
	// cards, destroyed rather than returned.
	Returnable  []*sls.Device
	Destroyable []*sls.Device
	// HasDSCPlus: the user holds a DSC+; the order page then replaces it.
	HasDSCPlus bool
}

func (p *Portal) lifecycleRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.Lifecycle == nil {
		return
	}
	// Ordering, activating and returning devices change what protects
	// the account: a device proven just now, or the temporary passcode
	// Client Services issued for exactly this (SPEC §6).
	handle("GET /settings/dscplus", sls.ForSession, p.orderPage)
	handle("POST /settings/dscplus/summary", sls.ForSession, p.orderSummary)
	handle("GET /settings/dscplus/summary", sls.ForSession, p.orderSummaryPage)
	handle("GET /settings/dscplus/placed", sls.ForSession, p.orderPlacedPage)
	handle("GET /settings/dscplus/activate", sls.ForStepUpOrTemporary, p.orderActivatePage)
	handle("POST /settings/dscplus/back", sls.ForSession, p.orderBack)
	handle("POST /settings/dscplus/place", sls.ForStepUpOrTemporary, p.orderPlace)
	handle("POST /settings/dscplus/activation", sls.ForStepUpOrTemporary, p.orderActivation)
	handle("POST /settings/dscplus/activate", sls.ForStepUpOrTemporary, p.orderActivate)
	handle("GET /settings/returns", sls.ForSession, p.returnsPage)
	handle("POST /settings/returns", sls.ForStepUpOrTemporary, p.sendReturn)
	handle("POST /settings/returns/destroyed", sls.ForStepUpOrTemporary, p.destroyed)
}

// ownLifecycleSection is lifecycleSection for the user's own devices,
// read here; on failure it has answered.
func (p *Portal) ownLifecycleSection(q *req) (*lifecycleSection, bool) {
	devs, err := p.d.Manage.Devices(q.r.Context(), q.u.ID)
	if err == nil {
		var sec *lifecycleSection
		if sec, err = p.lifecycleSection(q, devs); err == nil {
			return sec, true
		}
	}
	q.fail(err)
	return nil, false
}

func (p *Portal) lifecycleSection(q *req, devs []*sls.Device) (*lifecycleSection, error) {
	f, err := p.d.Lifecycle.Form(q.r.Context(), q.ss, q.u)
	if err != nil {
		return nil, err
	}
	sec := &lifecycleSection{Form: f, CanOrder: f.Eligibility != nil && f.Eligibility.Eligible && f.UnderWay == nil}
	for _, d := range devs {
		if d.Kind == sls.KindDSCPlus && (d.State == sls.StateActive || d.State == sls.StatePending || d.State == sls.StateSuspended) {
			sec.HasDSCPlus = true
		}
		switch {
		case d.Kind.Physical() && (d.State == sls.StateActive || d.State == sls.StateSuspended || d.State == sls.StatePending):
			sec.Returnable = append(sec.Returnable, d)
		case (d.Kind == sls.KindCodeCard || d.Kind == sls.KindOnlineCard) && d.State == sls.StateActive:
			sec.Destroyable = append(sec.Destroyable, d)
		}
	}
	return sec, nil
}

// orderForm is the order page as filled in so far.
type orderForm struct {
	Form          *lifecycle.OrderForm
	Address       string
	SaveAddress   bool
	ReplaceID     string
	ReplaceReason string
}

// Reasons are the reasons a device may be replaced.
func (orderForm) Reasons() []string {
	return []string{string(policy.ReplaceLost), string(policy.ReplaceStolen), string(policy.ReplaceDamaged)}
}

// orderDraft is the order between the form and the summary. It travels in
// the page sealed for this session (the PIN included), so the summary's
// "Back" and "Continue" need no server-side state and the PIN never sits in
// the page in clear.
type orderDraft struct {
	Req lifecycle.OrderRequest `json:"req"`
}

func draftPlace(sessionID string) seal.Place {
	return seal.Place{Table: "portal", Column: "dscplus_order_draft", Row: sessionID}
}

func (p *Portal) sealDraft(q *req, d orderDraft) (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	ct, err := p.d.Sealer.Seal(draftPlace(q.ss.ID), b)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(ct), nil
}

var errBadDraft = sls.Errorf(sls.CodeInvalidRequest, "The order form has expired. Please fill it in again.")

func (p *Portal) openDraft(q *req) (orderDraft, error) {
	return p.openSealedDraft(q, q.r.PostFormValue("draft"))
}

func (p *Portal) openSealedDraft(q *req, v string) (orderDraft, error) {
	var d orderDraft
	if len(v) > 4000 {
		return d, errBadDraft
	}
	ct, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(ct) == 0 {
		return d, errBadDraft
	}
	b, err := p.d.Sealer.Open(draftPlace(q.ss.ID), ct)
	if err != nil {
		return d, errBadDraft
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, errBadDraft
	}
	return d, nil
}

// orderPage is "Request Physical Device": the shipping address on file
// (changeable), the PIN, the account the USD 20 deposit is held on.
func (p *Portal) orderPage(q *req) {
	f, err := p.d.Lifecycle.Form(q.r.Context(), q.ss, q.u)
	if err != nil {
		q.fail(err)
		return
	}
	of := orderForm{Form: f, Address: f.ShippingAddress}
	if q.flash != nil { // a refused form or the summary's Back: as filled in, but for the PIN
		if a := q.formValue("address"); a != "" {
			of.Address = a
		}
		of.SaveAddress = q.formValue("save_address") == "on"
		of.ReplaceID, of.ReplaceReason = q.formValue("replace_id"), q.formValue("replace_reason")
	}
	q.render("order", q.t("order.title"), of)
}

func (p *Portal) orderRequest(q *req) (lifecycle.OrderRequest, orderForm, string) {
	f := q.r.PostForm
	of := orderForm{Address: strings.TrimSpace(f.Get("address")), SaveAddress: f.Get("save_address") == "on",
		ReplaceID: f.Get("replace_id"), ReplaceReason: f.Get("replace_reason")}
	req := lifecycle.OrderRequest{ShippingAddress: of.Address, SaveAddress: of.SaveAddress, PIN: f.Get("pin")}
	if of.ReplaceID != "" {
		req.Replace = &lifecycle.Replacement{DeviceID: of.ReplaceID, Reason: policy.ReplacementReason(of.ReplaceReason)}
	}
	problem := ""
	switch {
	case f.Get("pin") != f.Get("pin_again"):
		problem = q.t("order.pin_mismatch")
	case of.Address == "":
		problem = q.t("order.address_needed")
	}
	return req, of, problem
}

func (p *Portal) orderRefused(q *req, of orderForm, err error, msg string) {
	status := http.StatusBadRequest
	if msg == "" {
		msg = p.lifecycleError(q, err)
		status = statusOf(err)
	}
	q.redirectWith("/settings/dscplus", flash{Error: msg, Status: status, Fields: of.fields()})
}

// fields are the form's values to fill in again (never the PIN).
func (of orderForm) fields() map[string]string {
	m := map[string]string{"address": of.Address, "replace_id": of.ReplaceID, "replace_reason": of.ReplaceReason}
	if of.SaveAddress {
		m["save_address"] = "on"
	}
	return m
}

// lifecycleError translates the order conditions clients meet.
func (p *Portal) lifecycleError(q *req, err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		if c, ok := e.Detail[policy.DetailCondition].(string); ok {
			if key := "order.cond." + c; translate(q.lang, key) != key {
				return q.t(key)
			}
		}
	}
	return q.errText(err)
}

type summaryPage struct {
	Summary *lifecycle.Summary
	Draft   string
	Account string
}

// orderSummary shows the choices to check, with Back and Continue.
func (p *Portal) orderSummary(q *req) {
	req, of, problem := p.orderRequest(q)
	if problem != "" {
		p.orderRefused(q, of, nil, problem)
		return
	}
	sum, err := p.d.Lifecycle.Preview(q.r.Context(), q.ss, q.u, req)
	if err != nil {
		p.orderRefused(q, of, err, "")
		return
	}
	req.Summary = sum.Digest
	draft, err := p.sealDraft(q, orderDraft{Req: req})
	if err != nil {
		q.fail(err)
		return
	}
	// The summary is shown by GET: the draft waits in a cookie, sealed for
	// this session as in the page's own field (the PIN is never readable).
	q.setCookie(cookieOrder, draft, int(p.d.Login.Config().LoginTTL.Seconds()))
	q.redirect("/settings/dscplus/summary")
}

// cookieOrder holds the sealed order draft between the form and the
// summary page.
const cookieOrder = "sls_order"

// orderSummaryPage shows the summary of the draft in the cookie.
func (p *Portal) orderSummaryPage(q *req) {
	draft := q.cookie(cookieOrder)
	d, err := p.openSealedDraft(q, draft)
	if err != nil {
		q.redirect("/settings/dscplus")
		return
	}
	sum, err := p.d.Lifecycle.Preview(q.r.Context(), q.ss, q.u, d.Req)
	if err != nil {
		q.clearCookie(cookieOrder)
		p.orderRefused(q, orderForm{Address: d.Req.ShippingAddress, SaveAddress: d.Req.SaveAddress}, err, "")
		return
	}
	q.render("order_summary", q.t("order.summary_title"), summaryPage{Summary: sum, Draft: draft})
}

// orderBack is the summary's own Back button (not the browser's): the
// form again as it was filled in, but for the PIN.
func (p *Portal) orderBack(q *req) {
	d, err := p.openDraft(q)
	q.clearCookie(cookieOrder)
	if err != nil {
		q.redirect("/settings/dscplus")
		return
	}
	of := orderForm{Address: d.Req.ShippingAddress, SaveAddress: d.Req.SaveAddress}
	if d.Req.Replace != nil {
		of.ReplaceID, of.ReplaceReason = d.Req.Replace.DeviceID, string(d.Req.Replace.Reason)
	}
	q.redirectWith("/settings/dscplus", flash{Fields: of.fields()})
}

type confirmationPage struct {
	Confirmation *lifecycle.Confirmation
}

// orderPlace places the order the summary showed, and confirms it with
// the expected delivery date.
func (p *Portal) orderPlace(q *req) {
	d, err := p.openDraft(q)
	if err != nil {
		p.orderRefused(q, orderForm{}, err, "")
		return
	}
	conf, err := p.d.Lifecycle.Place(q.r.Context(), q.ss, q.u, d.Req)
	if err != nil {
		of := orderForm{Address: d.Req.ShippingAddress, SaveAddress: d.Req.SaveAddress}
		p.orderRefused(q, of, err, "")
		return
	}
	q.clearCookie(cookieOrder)
	b, _ := json.Marshal(lifecycle.Confirmation{ExpectedDelivery: conf.ExpectedDelivery, DepositAccount: conf.DepositAccount,
		DepositUSD: conf.DepositUSD, FeeUSD: conf.FeeUSD})
	q.redirectWith("/settings/dscplus/placed", flash{Fields: map[string]string{"placed": string(b)}})
}

// orderPlacedPage confirms the order just placed (the flash of the
// place form); later, the security page shows the order.
func (p *Portal) orderPlacedPage(q *req) {
	var conf lifecycle.Confirmation
	if q.flash == nil || json.Unmarshal([]byte(q.flash.Fields["placed"]), &conf) != nil {
		q.redirect("/settings/security#dscplus")
		return
	}
	q.render("order_confirmation", q.t("order.confirmation_title"), confirmationPage{Confirmation: &conf})
}

type activatePage struct {
	Challenge *lifecycle.ActivationChallenge
}

// orderActivation starts the activation of a delivered card: a challenge
// to answer with it (proof of possession and of the PIN).
func (p *Portal) orderActivation(q *req) {
	ch, err := p.d.Lifecycle.StartActivation(q.r.Context(), q.u, q.r.PostFormValue("order_id"))
	if err != nil {
		q.back("/settings/security#dscplus", statusOf(err), p.lifecycleError(q, err))
		return
	}
	b, _ := json.Marshal(ch)
	q.redirectWith("/settings/dscplus/activate", flash{Fields: map[string]string{"activation": string(b)}})
}

// orderActivatePage shows the activation challenge just started (the
// flash of the activation form); a reload goes back to the security page,
// where a new challenge may be asked for.
func (p *Portal) orderActivatePage(q *req) {
	var ch lifecycle.ActivationChallenge
	if q.flash == nil || json.Unmarshal([]byte(q.flash.Fields["activation"]), &ch) != nil || ch.OrderID == "" {
		q.redirect("/settings/security#dscplus")
		return
	}
	q.render("order_activate", q.t("order.activate_title"), activatePage{Challenge: &ch})
}

func (p *Portal) orderActivate(q *req) {
	if _, err := p.d.Lifecycle.Activate(q.r.Context(), q.u, q.r.PostFormValue("order_id"), q.r.PostFormValue("response")); err != nil {
		msg := p.lifecycleError(q, err)
		if sls.ErrorCode(err) == sls.CodeBadResponse {
			msg = q.t("order.activation_wrong")
		}
		q.back("/settings/security#dscplus", statusOf(err), msg)
		return
	}
	q.redirect("/settings/security?n=dscplus_active")
}

type returnsPage struct {
	Address     *lifecycle.ReturnAddress
	AddressErr  string
	Returnable  []*sls.Device
	Destroyable []*sls.Device
	Reasons     []string
	Answer      *lifecycle.ReturnAnswer
	DeviceID    string
	Reason      string
	Carrier     string
	Tracking    string
}

var returnReasons = []string{lifecycle.ReturnDamage, lifecycle.ReturnConsolidation, lifecycle.ReturnAccountClosure, lifecycle.ReturnReplacement}

// returnsPage is the Secure Login Device Return Form: which device, why,
// how it travels, and the regional address to send it to.
func (p *Portal) returnsPage(q *req) { p.renderReturns(q, http.StatusOK, nil, nil) }

func (p *Portal) renderReturns(q *req, status int, answer *lifecycle.ReturnAnswer, opts []renderOpt) {
	sec, ok := p.ownLifecycleSection(q)
	if !ok {
		return
	}
	pg := returnsPage{Returnable: sec.Returnable, Destroyable: sec.Destroyable, Reasons: returnReasons, Answer: answer}
	if q.flash != nil {
		pg.DeviceID, pg.Reason, pg.Carrier, pg.Tracking = q.formValue("device_id"), q.formValue("reason"), q.formValue("carrier"), q.formValue("tracking")
		// A return just recorded: where it goes, as the answer said.
		if addr := q.formValue("sent_address"); addr != "" || q.formValue("sent_warning") != "" {
			pg.Answer = &lifecycle.ReturnAnswer{Warning: q.formValue("sent_warning")}
			if addr != "" {
				pg.Answer.ReturnAddress = &lifecycle.ReturnAddress{Address: addr}
			}
			pg.DeviceID, pg.Reason, pg.Carrier, pg.Tracking = "", "", "", ""
		}
	}
	var err error
	if pg.Address, err = p.d.Lifecycle.ReturnAddressFor(q.r.Context(), q.u); err != nil {
		pg.AddressErr = q.errText(err)
	}
	q.status = status
	q.render("returns", q.t("returns.title"), pg, opts...)
}

func (p *Portal) sendReturn(q *req) {
	f := q.r.PostForm
	ans, err := p.d.Lifecycle.SendReturn(q.r.Context(), q.u, lifecycle.ReturnRequest{DeviceID: f.Get("device_id"), Reason: f.Get("reason"),
		Carrier: strings.TrimSpace(f.Get("carrier")), Tracking: strings.TrimSpace(f.Get("tracking"))})
	if err != nil {
		q.back("/settings/returns", statusOf(err), p.lifecycleError(q, err), "device_id", "reason", "carrier", "tracking")
		return
	}
	fl := flash{Notice: q.t("returns.recorded"), Fields: map[string]string{"sent_warning": ans.Warning}}
	if ans.ReturnAddress != nil {
		fl.Fields["sent_address"] = ans.ReturnAddress.Address
	}
	q.redirectWith("/settings/returns", fl)
}

// destroyed records that a printed card was destroyed (they are not
// returned); the card stops working.
func (p *Portal) destroyed(q *req) {
	if q.r.PostFormValue("confirm") != "on" {
		q.back("/settings/returns", http.StatusBadRequest, q.t("returns.destroy_confirm_needed"))
		return
	}
	if _, err := p.d.Lifecycle.ConfirmDestroyed(q.r.Context(), q.u, q.r.PostFormValue("device_id"), true); err != nil {
		q.back("/settings/returns", statusOf(err), p.lifecycleError(q, err))
		return
	}
	q.redirect("/settings/returns?n=destroyed")
}
