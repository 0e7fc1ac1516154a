package portal

import (
	"errors"
	"sort"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/codecard"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/messages"
	"github.com/secure-login-system/sls/notify"
)

type homePage struct {
	Banner    *activationView // IB Key activation for users without IB Key
	BannerErr string
	// BannerLink: a user without IB Key whose session must prove a
	// device before the activation code shows.
	BannerLink bool
	Devices    []*sls.Device
	Messages   int
	HasProtect bool
	Closed     bool
}

// home is the landing page after login, with the IB Key activation
// banner for users without IB Key (SPEC §3).
func (p *Portal) home(q *req) {
	hp := homePage{Closed: q.ss.Scope == sls.ScopeStatementsOnly, HasProtect: p.d.Protect != nil}
	if !hp.Closed {
		devs, err := p.d.Manage.Devices(q.r.Context(), q.u.ID)
		if err != nil {
			q.fail(err)
			return
		}
		hp.Devices = activeFirst(devs)
		// The banner's activation code enrols a device: it shows only to
		// a session that proved a device just now (sls.ForStepUp, as the
		// /ibkey page); others get a link that asks for that proof.
		hp.BannerLink = p.d.IBKey != nil && !hasActive(devs, sls.KindIBKey) && !q.allows(sls.ForStepUp)
		if p.d.IBKey != nil && !hasActive(devs, sls.KindIBKey) && !hp.BannerLink {
			a, err := p.activation(q)
			if err != nil {
				hp.BannerErr = q.errText(err)
			} else if !a.HasIBKey {
				hp.Banner = a
			}
		}
		if p.d.Messages != nil {
			if list, err := p.d.Messages.List(q.r.Context(), q.u.ID); err == nil {
				hp.Messages = len(list)
			}
		}
	}
	q.render("home", q.t("home.title"), hp)
}

func hasActive(devs []*sls.Device, k sls.DeviceKind) bool {
	for _, d := range devs {
		if d.Kind == k && d.State == sls.StateActive {
			return true
		}
	}
	return false
}

// activeFirst orders devices for display: active ones first, then by
// protection (SPEC §5 orders devices by protection), newest first.
func activeFirst(devs []*sls.Device) []*sls.Device {
	out := append([]*sls.Device(nil), devs...)
	rank := func(s sls.DeviceState) int {
		switch s {
		case sls.StateActive:
			return 0
		case sls.StatePending:
			return 1
		case sls.StateSuspended:
			return 2
		}
		return 3
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank(a.State) != rank(b.State) {
			return rank(a.State) < rank(b.State)
		}
		if a.Kind.Protection() != b.Kind.Protection() {
			return a.Kind.Protection() > b.Kind.Protection()
		}
		return a.CreatedAt.After(b.CreatedAt)
	})
	return out
}

type securityPage struct {
	Devices   []*sls.Device
	HasIBKey  bool
	IBKey     bool // the IB Key feature is on
	Now       time.Time
	Protect   *protectSection
	Lifecycle *lifecycleSection
}

// securityPage is Settings → Secure Login System: the devices and their
// state, and the actions on them.
func (p *Portal) securityPage(q *req) {
	devs, err := p.d.Manage.Devices(q.r.Context(), q.u.ID)
	if err != nil {
		q.fail(err)
		return
	}
	sp := securityPage{Devices: activeFirst(devs), HasIBKey: hasActive(devs, sls.KindIBKey), IBKey: p.d.IBKey != nil, Now: p.now()}
	var opts []renderOpt
	if p.d.Protect != nil {
		sec, err := p.protectSection(q)
		if err != nil {
			opts = append(opts, withError(q.errText(err)))
		}
		q.flashedProtect(sec)
		sp.Protect = sec
	}
	if p.d.Lifecycle != nil {
		sec, err := p.lifecycleSection(q, devs)
		if err != nil {
			opts = append(opts, withError(q.errText(err)))
		}
		sp.Lifecycle = sec
	}
	q.render("security", q.t("security.title"), sp, opts...)
}

type onlineCardPage struct {
	Device   *sls.Device
	Index1   int
	Index2   int
	CardOnly bool
}

// onlineCardPage is the Online Security Code Card: request, print,
// activate with the values at two index numbers (SPEC §3).
func (p *Portal) onlineCardPage(q *req) {
	d, _, pair, err := p.d.Manage.OnlineCard(q.r.Context(), q.u.ID)
	pg := onlineCardPage{CardOnly: q.ss.Scope == sls.ScopeOnlineCardOnly}
	if err == nil {
		pg.Device, pg.Index1, pg.Index2 = d, pair[0], pair[1]
	} else if sls.ErrorCode(err) != sls.CodeNotFound {
		q.fail(err)
		return
	}
	q.render("onlinecard", q.t("onlinecard.title"), pg)
}

func (p *Portal) onlineCardRequest(q *req) {
	if _, err := p.d.Manage.RequestOnlineCard(q.r.Context(), q.u.ID); err != nil {
		q.back("/settings/onlinecard", statusOf(err), q.errText(err))
		return
	}
	q.redirect("/settings/onlinecard?n=card_requested")
}

type printPage struct {
	Serial string
	Rows   [][]printCell
}

type printCell struct {
	Index int
	Value string
}

// onlineCardPrint is the printable card. Its values are secrets: the
// page is never cached (as every page).
func (p *Portal) onlineCardPrint(q *req) {
	d, card, _, err := p.d.Manage.OnlineCard(q.r.Context(), q.u.ID)
	if err != nil {
		if sls.ErrorCode(err) == sls.CodeNotFound {
			q.redirect("/settings/onlinecard")
			return
		}
		q.fail(err)
		return
	}
	q.render("print", q.t("print.title"), printPage{Serial: d.Serial, Rows: cardRows(card, 5)}, withPrint())
}

// cardRows lays the card out in columns of ten as the printed card does:
// index i sits in row (i-1)%10.
func cardRows(card codecard.Card, cols int) [][]printCell {
	n := card.Len()
	rows := (n + cols - 1) / cols
	out := make([][]printCell, rows)
	for i := 1; i <= n; i++ {
		v, _ := card.Value(i)
		r := (i - 1) % rows
		out[r] = append(out[r], printCell{Index: i, Value: v})
	}
	return out
}

func (p *Portal) onlineCardActivate(q *req) {
	ans := answerOf(q.r)
	_, err := p.d.Manage.ActivateOnlineCard(q.r.Context(), q.u.ID, q.r.PostFormValue("device_id"), ans, p.d.Login.Verifier())
	if err != nil {
		msg := q.errText(err)
		if sls.ErrorCode(err) == sls.CodeBadResponse {
			msg = q.t("err.card_values")
		}
		q.back("/settings/onlinecard", statusOf(err), msg)
		return
	}
	q.redirect("/settings/onlinecard?n=card_activated")
}

type mobilePage struct {
	Status *sms.VerificationStatus
	Masked string
}

// mobilePage is Settings → Mobile Number: VERIFY, the confirmation code,
// and the SMS Verified mark (SPEC §3).
func (p *Portal) mobilePage(q *req) {
	st, err := p.d.Phone.Status(q.r.Context(), q.u.ID)
	if err != nil {
		q.fail(err)
		return
	}
	q.render("mobile", q.t("mobile.title"), mobilePage{Status: st, Masked: sms.MaskNumber(st.Mobile)})
}

func (p *Portal) mobileRefused(q *req, err error) {
	msg := q.errText(err)
	if sls.ErrorCode(err) == sls.CodeBadResponse {
		msg = q.t("err.confirm_code")
	}
	q.back("/settings/mobile", statusOf(err), msg)
}

func (p *Portal) mobileVerify(q *req) {
	number := strings.TrimSpace(q.r.PostFormValue("mobile"))
	if _, err := p.d.Phone.StartVerification(q.r.Context(), q.u.ID, number, httpapi.ClientIP(q.r)); err != nil {
		p.mobileRefused(q, err)
		return
	}
	q.redirect("/settings/mobile?n=code_sent")
}

func (p *Portal) mobileConfirm(q *req) {
	if _, err := p.d.Phone.ConfirmVerification(q.r.Context(), q.u.ID, strings.TrimSpace(q.r.PostFormValue("code"))); err != nil {
		p.mobileRefused(q, err)
		return
	}
	q.redirect("/settings/mobile?n=verified")
}

type prefsPage struct {
	Primary   []langOption
	Secondary []langOption
	NoSecond  bool
	Kinds     []prefKind
	Channels  []notify.Channel
}

type prefKind struct {
	Kind     notify.Kind
	Critical bool
	On       map[notify.Channel]bool
}

// noticeChannels are the channels a notice may go to (never voice).
var noticeChannels = []notify.Channel{notify.ChannelEmail, notify.ChannelSMS, notify.ChannelPush}

func prefsView(pr notify.Preferences) prefsPage {
	pp := prefsPage{Primary: langOptions(pr.PrimaryLang), Channels: noticeChannels, NoSecond: pr.SecondaryLang == ""}
	if l, ok := notify.MatchLang(pr.PrimaryLang); ok {
		pp.Primary = langOptions(l)
	}
	sec, _ := notify.MatchLang(pr.SecondaryLang)
	pp.Secondary = langOptions(sec)
	for _, k := range notify.AllKinds {
		if k.Transactional() {
			continue
		}
		on := map[notify.Channel]bool{}
		for _, c := range pr.ChannelsFor(k) {
			on[c] = true
		}
		pp.Kinds = append(pp.Kinds, prefKind{Kind: k, Critical: k.SecurityCritical(), On: on})
	}
	return pp
}

// prefsPage is the message-center preferences: languages and the delivery
// of each kind of notice (SPEC §8).
func (p *Portal) prefsPage(q *req) {
	pr, err := p.d.Prefs.Get(q.r.Context(), q.u)
	if err != nil {
		q.fail(err)
		return
	}
	q.render("prefs", q.t("prefs.title"), prefsView(pr))
}

func (p *Portal) prefsSave(q *req) {
	f := q.r.PostForm
	pr := notify.Preferences{PrimaryLang: f.Get("primary_lang"), SecondaryLang: f.Get("secondary_lang"), Channels: map[notify.Kind][]notify.Channel{}}
	for _, k := range notify.AllKinds {
		if k.Transactional() {
			continue
		}
		chans := []notify.Channel{}
		for _, c := range noticeChannels {
			if f.Get("ch."+string(k)+"."+string(c)) == "on" {
				chans = append(chans, c)
			}
		}
		pr.Channels[k] = chans
	}
	if err := p.d.Prefs.Save(q.r.Context(), q.u, pr); err != nil {
		// The page shows the preferences as saved; the refusal says why
		// the change was not.
		q.back("/settings/messages", statusOf(err), q.errText(err))
		return
	}
	// The pages follow the new primary language from now on, not an
	// earlier choice made with the switch.
	q.clearCookie(cookieLang)
	q.redirect("/settings/messages?n=prefs_saved")
}

type messagesPage struct {
	Messages []messages.Message
	// Tickets is nil when tickets are not offered.
	Tickets   []messages.TicketView
	TicketsOn bool
	// The ticket form's values: kept when it is refused; Ref comes from
	// ?ref= when the upload's answer links here.
	Subject, Body, Ref string
}

func (p *Portal) messagesPage(q *req) {
	ref := q.r.URL.Query().Get("ref")
	if v := q.formValue("diagnostic_ref"); v != "" {
		ref = v
	}
	q.renderMessages(messagesPage{Ref: ref, Subject: q.formValue("subject"), Body: q.formValue("body")})
}

func (q *req) renderMessages(page messagesPage, opts ...renderOpt) {
	p := q.p
	list, err := p.d.Messages.List(q.r.Context(), q.u.ID)
	if err != nil {
		q.fail(err)
		return
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].CreatedAt.After(list[j].CreatedAt) })
	page.Messages = list
	if p.d.Tickets != nil {
		page.TicketsOn = true
		if page.Tickets, err = p.d.Tickets.Tickets(q.r.Context(), q.u.ID); err != nil {
			q.fail(err)
			return
		}
	}
	q.render("messages", q.t("messages.title"), page, opts...)
}

// ticketOpen opens a ticket from the Message Center's form. A refused
// diagnostics reference is told apart from nothing: unknown and someone
// else's read the same.
func (p *Portal) ticketOpen(q *req) {
	f := q.r.PostForm
	page := messagesPage{Subject: f.Get("subject"), Body: f.Get("body"), Ref: f.Get("diagnostic_ref")}
	if _, err := p.d.Tickets.OpenTicket(q.r.Context(), q.u, page.Subject, page.Body, page.Ref); err != nil {
		msg := q.errText(err)
		var e *sls.Error
		if errors.As(err, &e) {
			switch e.Detail["field"] {
			case "diagnostic_ref":
				msg = q.t("tickets.ref_unknown")
			case "subject", "body":
				msg = q.t("tickets.required")
			}
		}
		q.back("/messages", statusOf(err), msg, "subject", "body", "diagnostic_ref")
		return
	}
	q.redirect("/messages?n=ticket_opened")
}

type sessionsPage struct {
	Sessions      []*sls.Session
	Current       string
	Now           time.Time
	IdleMinutes   int
	AbsoluteHours float64
	// Reportable offers "this wasn't me" (package takeover).
	Reportable bool
}

func (p *Portal) sessionsPage(q *req) {
	list, err := p.d.Login.Sessions(q.r.Context(), q.u.ID)
	if err != nil {
		q.fail(err)
		return
	}
	now := p.now()
	var live []*sls.Session
	for _, s := range list {
		if s.Live(now) {
			live = append(live, s)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].CreatedAt.After(live[j].CreatedAt) })
	q.render("sessions", q.t("sessions.title"), sessionsPage{Sessions: live, Current: q.ss.ID, Now: now,
		IdleMinutes: int(p.cfg.IdleTimeout.D().Minutes()), AbsoluteHours: p.cfg.AbsoluteLifetime.D().Hours(), Reportable: p.d.ReportSelf != nil})
}

func (p *Portal) sessionEnd(q *req) {
	id := q.r.PostFormValue("session_id")
	if err := p.d.Login.End(q.r.Context(), q.u.ID, id); err != nil {
		q.back("/settings/sessions", statusOf(err), q.errText(err))
		return
	}
	if id == q.ss.ID {
		q.clearCookie(cookieSession)
		q.redirect("/login?n=logged_out")
		return
	}
	q.redirect("/settings/sessions?n=session_ended")
}
