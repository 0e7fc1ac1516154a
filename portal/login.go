package portal

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/login"
)

type loginPageData struct {
	Username string
	// Passkeys: offer "Sign in with a passkey".
	Passkeys bool
	// Diagnostics: link to the diagnostic bundle upload.
	Diagnostics bool
}

type selectPageData struct {
	Choices []choice
	Current string
	// Action is where the forms post: "/login", or "/stepup" for a
	// device proof inside a session (the login's pages serve both).
	Action string
	Intro  string
}

// challengePage is the chosen device's screen.
type challengePage struct {
	// Action and Intro: see selectPageData.
	Action       string
	Intro        string
	Kind         sls.DeviceKind
	DeviceID     string
	Prompt       *sls.Prompt
	Deadline     time.Time
	AttemptsLeft int
	// Another device may be chosen instead.
	CanSwitch bool
	// Code cards: the two index numbers.
	Index1, Index2 int
	// SMS: "Didn't receive a security code?".
	CanResend   bool
	ResendAfter time.Time
	// IB Key: the push's state (pending, approved, denied, expired,
	// rejected, superseded, cancelled, off) and why it is off.
	Push          string
	PushReason    string
	PushExpiresAt time.Time
	// Sign: a DSC+ confirmation in signing mode, the parts the client
	// types into the card (package factor/dscplus).
	Sign *factor.SignParts
}

// pushExtra is the public part of an IB Key prompt (package factor/ibkey).
type pushExtra struct {
	Push          string    `json:"push"`
	PushExpiresAt time.Time `json:"push_expires_at"`
	Reason        string    `json:"reason"`
}

func readPushExtra(p *sls.Prompt) pushExtra {
	var x pushExtra
	if p != nil && len(p.Extra) > 0 {
		_ = json.Unmarshal(p.Extra, &x)
	}
	return x
}

// renderLoginForm shows username and password, with an optional error.
func (q *req) renderLoginForm(errMsg string) {
	var opts []renderOpt
	if errMsg != "" {
		opts = append(opts, withError(errMsg))
	}
	q.render("login", q.t("login.title"), loginPageData{Username: q.formValue("username"), Passkeys: q.p.d.Passkeys != nil,
		Diagnostics: q.p.d.Diagnostics != nil}, opts...)
}

// afterLogin is where a session goes first.
func afterLogin(ss *sls.Session) string {
	if ss != nil && ss.Scope == sls.ScopeOnlineCardOnly {
		return "/settings/onlinecard?n=card_only"
	}
	return "/"
}

// loginPage shows the step the browser's login is at.
func (p *Portal) loginPage(q *req) {
	if q.ss != nil {
		q.redirect(q.afterLogin(q.ss))
		return
	}
	c, ok := q.loginState()
	if !ok {
		q.renderLoginForm("")
		return
	}
	st, err := p.d.Login.Status(q.r.Context(), c.ID)
	if err != nil {
		q.endLogin(err)
		return
	}
	switch st.State {
	case sls.LoginSelectDevice:
		q.render("select", q.t("select.title"), selectPageData{Choices: c.Choices, Action: "/login"})
	case sls.LoginChallenged:
		if q.r.URL.Query().Get("choose") == "1" && len(c.Choices) > 1 {
			q.render("select", q.t("select.title"), selectPageData{Choices: c.Choices, Current: st.DeviceID, Action: "/login"})
			return
		}
		q.renderChallenge(c, st)
	case sls.LoginFailed:
		if st.Prompt != nil && readPushExtra(st.Prompt).Push == sls.PushDenied {
			q.endLogin(errPushDenied)
			return
		}
		q.endLogin(sls.ErrTooManyAttempts)
	default: // completed elsewhere: this browser has no session from it
		q.endLogin(sls.ErrLoginCompleted)
	}
}

// errPushDenied is shown when the client denied the notification.
var errPushDenied = errors.New("push denied")

// endLogin forgets the browser's login and shows the form with why.
func (q *req) endLogin(err error) {
	q.clearCookie(cookieLogin)
	msg := ""
	switch {
	case errors.Is(err, errPushDenied):
		msg = q.t("err.push_denied")
	case sls.ErrorCode(err) == sls.CodeNotFound:
		msg = q.t("err.login_expired")
	default:
		msg = q.errText(err)
	}
	if q.status == 0 {
		q.status = statusOf(err)
		if errors.Is(err, errPushDenied) {
			q.status = http.StatusForbidden
		}
	}
	if q.r.Method == http.MethodPost {
		q.back("/login", q.status, msg, "username")
		return
	}
	q.renderLoginForm(msg)
}

// endsLogin reports whether err means the login cannot go on.
func endsLogin(err error) bool {
	switch sls.ErrorCode(err) {
	case sls.CodeLoginExpired, sls.CodeLoginCompleted, sls.CodeTooManyAttempts, sls.CodeLocked, sls.CodeNotFound,
		sls.CodeForbidden, sls.CodeIPNotAllowed:
		return true
	}
	return false
}

func (q *req) renderChallenge(c loginCookie, st *login.Step, opts ...renderOpt) {
	q.renderDeviceScreen(deviceScreen{action: "/login", choices: len(c.Choices), script: true}, st, opts...)
}

// deviceScreen says where a device's screen is shown: in the login, or
// in a step-up inside a session.
type deviceScreen struct {
	action  string // "/login" or "/stepup"
	choices int    // devices offered (another may be chosen when > 1)
	intro   string
	script  bool // the push page's script may wait for the approval
}

// renderDeviceScreen shows the chosen device's challenge.
func (q *req) renderDeviceScreen(ds deviceScreen, st *login.Step, opts ...renderOpt) {
	pr := st.Prompt
	if pr == nil {
		if ds.action == "/login" {
			q.endLogin(sls.ErrLoginExpired)
		} else {
			q.redirect(ds.action)
		}
		return
	}
	cp := challengePage{Action: ds.action, Intro: ds.intro, Kind: pr.Kind, DeviceID: st.DeviceID, Prompt: pr, Deadline: st.Deadline,
		AttemptsLeft: st.AttemptsLeft, CanSwitch: ds.choices > 1}
	title := q.t("challenge.title")
	switch pr.Kind {
	case sls.KindCodeCard, sls.KindOnlineCard:
		if len(pr.Indices) == 2 {
			cp.Index1, cp.Index2 = pr.Indices[0], pr.Indices[1]
		}
	case sls.KindSMS:
		cp.CanResend = q.p.d.Resend != nil && ds.action == "/login"
		cp.ResendAfter = pr.ResendAfter
	case sls.KindIBKey:
		x := readPushExtra(pr)
		cp.Push, cp.PushReason, cp.PushExpiresAt = x.Push, x.Reason, x.PushExpiresAt
		if x.Push == sls.PushPending && q.p.d.IBKey != nil && ds.script {
			opts = append(opts, withScript())
		}
	case sls.KindPasskey:
		opts = append(opts, withPasskeyScript())
	}
	q.render("challenge", title, cp, opts...)
}

// loginStart is the username and password form.
func (p *Portal) loginStart(q *req) {
	if q.ss != nil {
		q.redirect(q.afterLogin(q.ss))
		return
	}
	r := q.r
	step, err := p.d.Login.Start(r.Context(), login.StartRequest{Username: r.PostFormValue("username"), Password: r.PostFormValue("password"),
		Platform: sls.PlatformPortal, ClientIP: httpapi.ClientIP(r), UserAgent: r.UserAgent(), ClientToken: q.cookie(cookieClient)})
	if err != nil {
		q.clearCookie(cookieLogin)
		q.back("/login", statusOf(err), q.errText(err), "username")
		return
	}
	if step.Session != nil { // the password alone was enough (a closed account's statements)
		q.startSession(step.Session)
		return
	}
	c := loginCookie{ID: step.LoginID}
	for _, d := range step.Devices {
		if len(c.Choices) == maxChoices {
			break
		}
		c.Choices = append(c.Choices, choice{ID: d.ID, Kind: d.Kind, Label: d.Label, Serial: d.Serial})
	}
	q.setLoginState(c)
	p.pokeIBKey(q, c.ID, step)
	q.redirect("/login")
}

// startSession hands the browser its session cookie after a login.
func (q *req) startSession(ns *login.NewSession) {
	q.clearCookie(cookieLogin)
	// A browser-session cookie (no Max-Age): closing the browser forgets
	// it; the server ends the session by its own limits anyway.
	q.setCookie(cookieSession, ns.Token, 0)
	if ns.ClientToken != "" {
		// The device cookie outlives the session: this browser stays a
		// known client of the user, whom wrong passwords from elsewhere
		// do not lock out of it (400 days, the longest browsers keep a
		// cookie: RFC 6265bis §5.6).
		q.setCookie(cookieClient, ns.ClientToken, 400*24*60*60)
	}
	q.redirect(q.afterLogin(ns.Session))
}

// loginDevice is "Select Second Factor Device" (also "send a new
// notification", which chooses the IB Key again).
func (p *Portal) loginDevice(q *req) {
	c, ok := q.loginState()
	if !ok {
		q.endLogin(sls.ErrLoginExpired)
		return
	}
	id := q.r.PostFormValue("device_id")
	step, err := p.d.Login.SelectDevice(q.r.Context(), c.ID, id)
	if err != nil {
		if endsLogin(err) && sls.ErrorCode(err) != sls.CodeNotFound {
			q.endLogin(err)
			return
		}
		if sls.ErrorCode(err) == sls.CodeNotFound {
			if _, serr := p.d.Login.Status(q.r.Context(), c.ID); serr != nil {
				q.endLogin(serr)
				return
			}
		}
		q.back("/login?choose=1", statusOf(err), q.errText(err))
		return
	}
	p.pokeIBKey(q, c.ID, step)
	q.redirect("/login")
}

// answerOf builds the answer from the form: the response field, or the two
// card values.
func answerOf(r *http.Request) string {
	if v1, v2 := strings.TrimSpace(r.PostFormValue("value1")), strings.TrimSpace(r.PostFormValue("value2")); v1 != "" || v2 != "" {
		return v1 + " " + v2
	}
	return r.PostFormValue("response")
}

// loginAnswer checks the device's answer.
func (p *Portal) loginAnswer(q *req) {
	c, ok := q.loginState()
	if !ok {
		q.endLogin(sls.ErrLoginExpired)
		return
	}
	ans := answerOf(q.r)
	if strings.TrimSpace(ans) == "" {
		p.reshowChallenge(q, c, q.t("err.answer_empty"), http.StatusBadRequest)
		return
	}
	step, err := p.d.Login.Answer(q.r.Context(), c.ID, ans)
	p.afterAnswer(q, c, step, err)
}

func (p *Portal) afterAnswer(q *req, c loginCookie, step *login.Step, err error) {
	switch {
	case err == nil && step != nil && step.Session != nil:
		q.startSession(step.Session)
	case err != nil && step != nil && step.State == sls.LoginChallenged:
		msg := q.errText(err)
		if step.AttemptsLeft > 0 {
			msg += " " + q.t("challenge.attempts_left", step.AttemptsLeft)
		}
		// The challenge again by GET: a reload shows it, never answers again.
		q.back("/login", statusOf(err), msg)
	case err != nil && endsLogin(err):
		q.endLogin(err)
	case err != nil:
		p.reshowChallenge(q, c, q.errText(err), statusOf(err))
	default:
		q.redirect("/login")
	}
}

// reshowChallenge shows the current screen again with an error, by GET
// (the login page shows whatever step the login is at).
func (p *Portal) reshowChallenge(q *req, c loginCookie, msg string, status int) {
	if _, err := p.d.Login.Status(q.r.Context(), c.ID); err != nil {
		q.endLogin(err)
		return
	}
	q.back("/login", status, msg)
}

// loginResend is "Didn't receive a security code?": a new SMS, or Voice.
func (p *Portal) loginResend(q *req) {
	c, ok := q.loginState()
	if !ok {
		q.endLogin(sls.ErrLoginExpired)
		return
	}
	if p.d.Resend == nil {
		q.notFound()
		return
	}
	channel := q.r.PostFormValue("channel")
	if channel != "sms" && channel != "voice" {
		p.reshowChallenge(q, c, q.t("err.channel"), http.StatusBadRequest)
		return
	}
	if _, err := p.d.Resend.ResendLogin(q.r.Context(), p.d.Store, c.ID, channel, p.now()); err != nil {
		if endsLogin(err) {
			q.endLogin(err)
			return
		}
		p.reshowChallenge(q, c, q.errText(err), statusOf(err))
		return
	}
	q.redirect("/login?n=resent_" + channel)
}

// loginPushDone completes the login once the push was approved: the
// script posts it by itself; without JavaScript the client presses
// "Continue" after approving on the phone.
func (p *Portal) loginPushDone(q *req) {
	c, ok := q.loginState()
	if !ok {
		q.endLogin(sls.ErrLoginExpired)
		return
	}
	step, err := p.d.Login.Answer(q.r.Context(), c.ID, "")
	if sls.ErrorCode(err) == sls.CodeConflict {
		p.reshowChallenge(q, c, q.t("err.push_not_approved"), http.StatusConflict)
		return
	}
	p.afterAnswer(q, c, step, err)
}

// loginCancel forgets the browser's login ("Start over").
func (p *Portal) loginCancel(q *req) {
	q.clearCookie(cookieLogin)
	q.redirect("/login")
}

// logout ends the session.
func (p *Portal) logout(q *req) {
	if err := p.d.Login.End(q.r.Context(), q.u.ID, q.ss.ID); err != nil {
		q.fail(err)
		return
	}
	q.clearCookie(cookieSession)
	q.redirect("/login?n=logged_out")
}
