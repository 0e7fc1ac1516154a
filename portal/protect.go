package portal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
)

// Protect is what the pages need of the account-protection feature
// (*protect.Service): withdrawal limits, participation (opt-out / opt
// back in), IP restrictions and device sharing (SPEC §4, §5).
type Protect interface {
	Limits(ctx context.Context, sess *sls.Session, u *sls.User) (*protect.LimitsAnswer, error)
	RecordWithdrawal(ctx context.Context, sess *sls.Session, u *sls.User, req protect.MoneyRequest) (*protect.WithdrawalAnswer, error)
	Participation(ctx context.Context, caller *sls.User, target string) (*protect.Participation, error)
	SetParticipation(ctx context.Context, sess *sls.Session, caller *sls.User, target string, optOut bool) (*protect.Participation, error)
	IPRestrictions(ctx context.Context, username, clientIP string) (*protect.IPRestrictionsAnswer, error)
	SetIPRestrictions(ctx context.Context, actor, username string, entries []string, clientIP string) (*protect.IPRestrictionsAnswer, error)
	CheckSharing(ctx context.Context, usernames []string, kind sls.DeviceKind) (*protect.SharingAnswer, error)
}

var _ Protect = (*protect.Service)(nil)

// protectSection is the part of Settings → Secure Login System about
// participation, IP restrictions and sharing.
type protectSection struct {
	Part *protect.Participation
	IP   *protect.IPRestrictionsAnswer
	// Sharing is the answer of a sharing check just made.
	Sharing     *sharingView
	ShareKinds  []sls.DeviceKind
	OthersInput string
	IPInput     string
	CurrentIP   string
	Admins      string // who may change security settings
	// IPChecked: the user has restrictions, and IPAllowed says whether
	// this request's address is among them.
	IPChecked, IPAllowed bool
}

type sharingView struct {
	Allowed bool
	Message string
	Kind    sls.DeviceKind
}

func (p *Portal) protectRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.Protect == nil {
		return
	}
	// Withdrawals above the password-only limit need a fresh device proof
	// (decided with the limit, package protect); the settings always do.
	handle("GET /withdraw", sls.ForSession, p.withdrawPage)
	handle("POST /withdraw", sls.ForSession, p.withdraw)
	handle("POST /settings/security/opt-out", sls.ForStepUp, p.optOut)
	handle("POST /settings/security/opt-in", sls.ForStepUp, p.optIn)
	handle("POST /settings/security/ip", sls.ForStepUp, p.setIP)
	handle("POST /settings/security/sharing", sls.ForSession, p.checkSharing)
}

func (p *Portal) protectSection(q *req) (*protectSection, error) {
	ctx := q.r.Context()
	sec := &protectSection{CurrentIP: httpapi.ClientIP(q.r)}
	var err error
	if sec.Part, err = p.d.Protect.Participation(ctx, q.u, ""); err != nil {
		return nil, err
	}
	sec.Admins = strings.Join(sec.Part.SecurityAdmins, ", ")
	if sec.IP, err = p.d.Protect.IPRestrictions(ctx, q.u.Username, sec.CurrentIP); err != nil {
		return nil, err
	}
	sec.IPInput = strings.Join(sec.IP.IPRestrictions, "\n")
	if a := sec.IP.CurrentIPAllowed; a != nil && len(sec.IP.IPRestrictions) > 0 {
		sec.IPChecked, sec.IPAllowed = true, *a
	}
	devs, err := p.d.Manage.Devices(ctx, q.u.ID)
	if err != nil {
		return nil, err
	}
	now := p.now()
	seen := map[sls.DeviceKind]bool{}
	for _, d := range activeFirst(devs) {
		if d.Usable(now) && !d.Kind.Temporary() && d.Kind != sls.KindIBKey && !seen[d.Kind] {
			seen[d.Kind] = true
			sec.ShareKinds = append(sec.ShareKinds, d.Kind)
		}
	}
	return sec, nil
}

// optOut opts the user out of SLS (SPEC §5): only with the permission to
// change security settings, never where 2FA is mandated. The client must
// tick that it understands what it gives up.
func (p *Portal) optOut(q *req) {
	if q.r.PostFormValue("understand") != "on" {
		q.back("/settings/security#participation", http.StatusBadRequest, q.t("protect.optout_confirm_needed"))
		return
	}
	if _, err := p.d.Protect.SetParticipation(q.r.Context(), q.ss, q.u, "", true); err != nil {
		q.back("/settings/security#participation", statusOf(err), p.participationError(q, err))
		return
	}
	q.redirect("/settings/security?n=opted_out#participation")
}

// optIn opts back in, which sets "Always use my secure login device at
// login" (the seed's step 6: the box is ticked, then Continue).
func (p *Portal) optIn(q *req) {
	if q.r.PostFormValue("always") != "on" {
		q.back("/settings/security#participation", http.StatusBadRequest, q.t("protect.optin_always_needed"))
		return
	}
	if _, err := p.d.Protect.SetParticipation(q.r.Context(), q.ss, q.u, "", false); err != nil {
		q.back("/settings/security#participation", statusOf(err), p.participationError(q, err))
		return
	}
	q.redirect("/settings/security?n=opted_in#participation")
}

// participationError names who may change security settings when the
// user may not (SPEC §5: "others see which users have it").
func (p *Portal) participationError(q *req, err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		switch e.Detail[policy.DetailCondition] {
		case policy.CondSecurityPermission:
			if part, perr := p.d.Protect.Participation(q.r.Context(), q.u, ""); perr == nil {
				if len(part.SecurityAdmins) == 0 {
					return q.t("protect.no_permission_none")
				}
				return q.t("protect.no_permission", strings.Join(part.SecurityAdmins, ", "))
			}
		case policy.CondJurisdictionMandates2FA, policy.CondJurisdictionUnknown:
			return q.t("protect.mandated")
		}
	}
	return q.errText(err)
}

// setIP replaces the trading-platform IP restrictions: one address or
// network per line; empty removes them.
func (p *Portal) setIP(q *req) {
	if _, sent := q.r.PostForm["ip_restrictions"]; !sent {
		// A form without the field is not "remove them all".
		q.back("/settings/security#ip", http.StatusBadRequest, q.t("err.form"))
		return
	}
	var entries []string
	for _, line := range strings.FieldsFunc(q.r.PostFormValue("ip_restrictions"), func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if s := strings.TrimSpace(line); s != "" {
			entries = append(entries, s)
		}
	}
	if _, err := p.d.Protect.SetIPRestrictions(q.r.Context(), sls.ActorUser(q.u.ID), q.u.Username, entries, httpapi.ClientIP(q.r)); err != nil {
		q.back("/settings/security#ip", statusOf(err), q.errText(err), "ip_restrictions")
		return
	}
	q.redirect("/settings/security?n=ip_saved#ip")
}

// checkSharing answers whether the user's other usernames may share one
// of its devices. Client Services links them once they have verified the
// usernames belong to one person; the page only checks. A refusal about
// identity or unknown usernames is one generic message, so the form
// cannot be used to learn about other people's usernames.
func (p *Portal) checkSharing(q *req) {
	others := q.r.PostFormValue("usernames")
	names := []string{q.u.Username}
	for _, n := range strings.FieldsFunc(others, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		if n != "" && len(names) < 10 {
			names = append(names, n)
		}
	}
	kind := sls.DeviceKind(q.r.PostFormValue("kind"))
	view := &sharingView{Kind: kind}
	if len(names) < 2 {
		view.Message = q.t("sharing.need_names")
	} else if ans, err := p.d.Protect.CheckSharing(q.r.Context(), names, kind); err != nil {
		if sls.ErrorCode(err) == sls.CodeNotFound || sls.ErrorCode(err) == sls.CodeInvalidArgument {
			view.Message = q.t("sharing.cond.identity_mismatch")
		} else {
			q.fail(err)
			return
		}
	} else if ans.Allowed {
		view.Allowed, view.Message = true, q.t("sharing.allowed", q.t("device."+string(kind)))
	} else {
		key := "sharing.cond." + ans.Condition
		if translate(q.lang, key) == key || ans.Condition == policy.CondIdentityIncomplete {
			key = "sharing.cond.identity_mismatch"
		}
		view.Message = q.t(key)
	}
	// The answer travels to the page in the flash (it names no secret:
	// the usernames typed and a fixed message).
	ok := ""
	if view.Allowed {
		ok = "1"
	}
	q.redirectWith("/settings/security#sharing", flash{Fields: map[string]string{"usernames": others, "sharing_msg": view.Message,
		"sharing_ok": ok, "sharing_kind": string(kind)}})
}

// flashedProtect fills the section with what a form left in the flash:
// the IP restrictions as typed, the sharing answer.
func (q *req) flashedProtect(s *protectSection) {
	if q.flash == nil || s == nil {
		return
	}
	f := q.flash.Fields
	if v, ok := f["ip_restrictions"]; ok {
		s.IPInput = v
	}
	if msg := f["sharing_msg"]; msg != "" {
		s.Sharing = &sharingView{Allowed: f["sharing_ok"] == "1", Message: msg, Kind: sls.DeviceKind(f["sharing_kind"])}
		s.OthersInput = f["usernames"]
	}
}

type withdrawPage struct {
	Answer     *protect.LimitsAnswer
	Recorded   *protect.WithdrawalAnswer
	RequestID  string
	Amount     string
	Currency   string
	Currencies []string
	// CanConfirm offers confirming a withdrawal with a second device.
	CanConfirm bool
}

// withdrawPage is the withdrawal form: the limit that applies (the device
// that authenticated the session, SPEC §4) and what is left of it.
func (p *Portal) withdrawPage(q *req) {
	p.renderWithdraw(q, http.StatusOK, nil, nil)
}

func (p *Portal) renderWithdraw(q *req, status int, recorded *protect.WithdrawalAnswer, opts []renderOpt) {
	lim, err := p.d.Protect.Limits(q.r.Context(), q.ss, q.u)
	if err != nil {
		q.fail(err)
		return
	}
	currencies := []string{"USD"}
	if acct, err := p.accountCurrency(q); err == nil && acct != "USD" {
		currencies = append(currencies, acct)
	}
	pg := withdrawPage{Answer: lim, Recorded: recorded, RequestID: newRequestID(p.d.Rand), Currencies: currencies, Currency: "USD",
		CanConfirm: p.confirmer() != nil}
	if q.flashed() {
		pg.Amount = q.formValue("amount")
		if c := q.formValue("currency"); c != "" {
			pg.Currency = c
		}
	}
	q.status = status
	q.render("withdraw", q.t("withdraw.title"), pg, opts...)
}

func (p *Portal) accountCurrency(q *req) (string, error) {
	var cur string
	err := p.d.Store.View(q.r.Context(), func(tx sls.Tx) error {
		a, err := tx.Account(q.r.Context(), q.u.AccountID)
		if err == nil {
			cur = a.BaseCurrency
		}
		return err
	})
	return cur, err
}

// newRequestID is the idempotency key of one rendering of the form: a
// double submission books one withdrawal.
func newRequestID(r io.Reader) string {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
	}
	return "wd_" + base64.RawURLEncoding.EncodeToString(b)
}

func (p *Portal) withdraw(q *req) {
	f := q.r.PostForm
	req := protect.MoneyRequest{RequestID: f.Get("request_id"), Currency: f.Get("currency"), Amount: strings.TrimSpace(f.Get("amount"))}
	ans, err := p.d.Protect.RecordWithdrawal(q.r.Context(), q.ss, q.u, req)
	if err != nil {
		msg := q.errText(err)
		if sls.ErrorCode(err) == sls.CodeLimitExceeded && ans != nil {
			msg = q.t("withdraw.refused", q.t("device."+string(ans.Limit.DeviceKind)))
		}
		q.back("/withdraw", statusOf(err), msg, "amount", "currency")
		return
	}
	q.redirectWith("/withdraw", flash{Notice: q.t("withdraw.recorded", formatMoney(q.lang, ans.Currency, amountMinor(ans)))})
}

// amountMinor is the recorded amount in minor units of its currency.
func amountMinor(a *protect.WithdrawalAnswer) int64 {
	if m, err := protect.ParseAmount(a.Currency, a.Amount); err == nil {
		return m.Minor
	}
	return a.AmountUSD
}
