package portal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
)

// StepUp proves a security device inside a live session, so that pages
// declared sls.ForStepUp open (package stepup). Its steps have the
// login's shape: LoginID is the step-up's bearer handle, State is
// challenged until the answer is right, then completed.
type StepUp interface {
	// Devices lists the session user's devices that can prove assurance.
	Devices(ctx context.Context, ss *sls.Session) ([]login.DeviceChoice, error)
	// Start challenges one of them.
	Start(ctx context.Context, ss *sls.Session, deviceID string) (*login.Step, error)
	// Status shows where a step-up stands.
	Status(ctx context.Context, ss *sls.Session, id string) (*login.Step, error)
	// Answer checks the answer (empty: an approved IB Key push). A wrong
	// answer counts toward the user's lock-out and returns the step with
	// the error.
	Answer(ctx context.Context, ss *sls.Session, id, answer string) (*login.Step, error)
}

// The step-up pages. The step-up pages themselves need only a session:
// proving a device is how a password-only session earns more.
func (p *Portal) stepUpRoutes(handle func(string, sls.Access, func(*req))) {
	handle("GET /stepup", sls.ForSession, p.stepUpPage)
	handle("POST /stepup/device", sls.ForSession, p.stepUpDevice)
	handle("POST /stepup/answer", sls.ForSession, p.stepUpAnswer)
	handle("POST /stepup/push", sls.ForSession, p.stepUpPush)
	handle("POST /stepup/cancel", sls.ForSession, p.stepUpCancel)
}

// stepUpCookie is a step-up in progress in this browser.
type stepUpCookie struct {
	ID      string   `json:"i,omitempty"`
	Next    string   `json:"n"`
	Choices []choice `json:"c"`
	// Only limits the devices offered to these kinds (empty: any).
	Only []sls.DeviceKind `json:"o,omitempty"`
}

// onlyKinds reads a comma-separated list of device kinds, keeping the
// known ones.
func onlyKinds(v string) []sls.DeviceKind {
	var out []sls.DeviceKind
	for _, k := range strings.Split(v, ",") {
		if kind := sls.DeviceKind(k); kind.Valid() && !slices.Contains(out, kind) {
			out = append(out, kind)
		}
	}
	return out
}

var stepUpIDPattern = regexp.MustCompile(`^[a-z]{2,10}_[A-Za-z0-9_-]{20,64}$`)

func (q *req) stepUpState() (stepUpCookie, bool) {
	v := q.cookie(cookieStepUp)
	if v == "" {
		return stepUpCookie{}, false
	}
	c, ok := parseStepUpCookie(v, q.p.isPage)
	if !ok {
		q.clearCookie(cookieStepUp)
	}
	return c, ok
}

// parseStepUpCookie reads a step-up cookie, refusing anything malformed
// and any return page that is not a declared page (no open redirect).
func parseStepUpCookie(v string, isPage func(string) bool) (stepUpCookie, bool) {
	if len(v) > 3000 {
		return stepUpCookie{}, false
	}
	var c stepUpCookie
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	ok := err == nil && (c.ID == "" || stepUpIDPattern.MatchString(c.ID)) && isPage(c.Next) && len(c.Choices) <= maxChoices &&
		len(c.Only) <= len(sls.AllKinds)
	for _, k := range c.Only {
		ok = ok && k.Valid()
	}
	for _, ch := range c.Choices {
		ok = ok && deviceIDPattern.MatchString(ch.ID) && ch.Kind.Valid()
	}
	if !ok {
		return stepUpCookie{}, false
	}
	return c, true
}

func (q *req) setStepUpState(c stepUpCookie) {
	b, _ := json.Marshal(c)
	q.setCookie(cookieStepUp, base64.RawURLEncoding.EncodeToString(b), int(q.p.d.Login.Config().LoginTTL.Seconds()))
}

// stepUpPage asks which device to prove, or shows the chosen device's
// challenge. ?next= is the page to return to (declared pages only).
func (p *Portal) stepUpPage(q *req) {
	c, ok := q.stepUpState()
	query := q.r.URL.Query()
	if next := query.Get("next"); next != "" || !ok {
		if !p.isPage(next) {
			next = "/"
		}
		// again=1: the page needs a proof of another kind than the one
		// already made (an application's acr_values), so a recent proof
		// does not count.
		if q.allows(sls.ForStepUp) && query.Get("again") != "1" {
			q.redirect(next) // proven already (another tab did it)
			return
		}
		c = stepUpCookie{Next: next, Only: onlyKinds(query.Get("only"))}
	}
	if c.ID != "" && q.r.URL.Query().Get("choose") != "1" {
		st, err := p.d.StepUp.Status(q.r.Context(), q.ss, c.ID)
		if err == nil && st.State == sls.LoginChallenged {
			p.renderStepUpChallenge(q, c, st)
			return
		}
		c.ID = ""
	}
	devs, err := p.d.StepUp.Devices(q.r.Context(), q.ss)
	if err != nil {
		q.fail(err)
		return
	}
	c.Choices = c.Choices[:0]
	for _, d := range devs {
		if len(c.Only) > 0 && !slices.Contains(c.Only, d.Kind) {
			continue
		}
		if len(c.Choices) < maxChoices {
			c.Choices = append(c.Choices, choice{ID: d.ID, Kind: d.Kind, Label: d.Label, Serial: d.Serial})
		}
	}
	if len(c.Choices) == 1 { // one device: no choice to make, as at login
		st, err := p.d.StepUp.Start(q.r.Context(), q.ss, c.Choices[0].ID)
		if err == nil {
			c.ID = st.LoginID
			q.setStepUpState(c)
			p.pokeIBKeyUser(q, st)
			p.renderStepUpChallenge(q, c, st)
			return
		}
		q.setStepUpState(c)
		q.status = statusOf(err)
		q.render("select", q.t("stepup.title"), selectPageData{Choices: c.Choices, Action: "/stepup", Intro: q.t("stepup.intro")},
			withError(q.errText(err)))
		return
	}
	q.setStepUpState(c)
	if len(c.Choices) == 0 {
		q.status = http.StatusForbidden
		q.render("error", q.t("stepup.title"), errorPage{Message: q.t("stepup.no_device")})
		return
	}
	q.render("select", q.t("stepup.title"), selectPageData{Choices: c.Choices, Action: "/stepup", Intro: q.t("stepup.intro")})
}

func (p *Portal) renderStepUpChallenge(q *req, c stepUpCookie, st *login.Step, opts ...renderOpt) {
	q.renderDeviceScreen(deviceScreen{action: "/stepup", choices: len(c.Choices), intro: q.t("stepup.intro")}, st, opts...)
}

// stepUpDevice challenges the chosen device.
func (p *Portal) stepUpDevice(q *req) {
	c, ok := q.stepUpState()
	if !ok {
		q.redirect("/stepup?next=/")
		return
	}
	st, err := p.d.StepUp.Start(q.r.Context(), q.ss, q.r.PostFormValue("device_id"))
	if err != nil {
		q.back("/stepup?choose=1", statusOf(err), q.errText(err))
		return
	}
	c.ID = st.LoginID
	q.setStepUpState(c)
	p.pokeIBKeyUser(q, st)
	q.redirect("/stepup")
}

// stepUpAnswer checks the answer; a right one returns to the page.
func (p *Portal) stepUpAnswer(q *req) {
	p.finishStepUp(q, answerOf(q.r))
}

// stepUpPush completes a step-up whose IB Key push was approved.
func (p *Portal) stepUpPush(q *req) { p.finishStepUp(q, "") }

func (p *Portal) finishStepUp(q *req, answer string) {
	c, ok := q.stepUpState()
	if !ok || c.ID == "" {
		q.redirect("/stepup?next=/")
		return
	}
	st, err := p.d.StepUp.Answer(q.r.Context(), q.ss, c.ID, strings.TrimSpace(answer))
	switch {
	case err == nil && st != nil && st.State == sls.LoginCompleted:
		q.clearCookie(cookieStepUp)
		q.redirect(c.Next)
	case err != nil && st != nil && st.State == sls.LoginChallenged:
		msg := q.errText(err)
		if sls.ErrorCode(err) == sls.CodeConflict && answer == "" {
			msg = q.t("err.push_not_approved")
		} else if st.AttemptsLeft > 0 {
			msg += " " + q.t("challenge.attempts_left", st.AttemptsLeft)
		}
		q.back("/stepup", statusOf(err), msg)
	case err != nil && sls.ErrorCode(err) == sls.CodeConflict && answer == "":
		if cur, serr := p.d.StepUp.Status(q.r.Context(), q.ss, c.ID); serr == nil && cur.State == sls.LoginChallenged {
			q.back("/stepup", http.StatusConflict, q.t("err.push_not_approved"))
			return
		}
		fallthrough
	default:
		// Used up, expired or locked: start again (a lock shows on the
		// device list's error).
		c.ID = ""
		q.setStepUpState(c)
		q.back("/stepup?choose=1", statusOf(err), q.errText(err))
	}
}

// stepUpCancel gives up and goes home.
func (p *Portal) stepUpCancel(q *req) {
	q.clearCookie(cookieStepUp)
	q.redirect("/")
}

// pokeIBKeyUser tells the session user's app connections that a step-up
// push may be waiting.
func (p *Portal) pokeIBKeyUser(q *req, st *login.Step) {
	if p.d.IBKey != nil && st != nil && st.Prompt != nil && st.Prompt.Kind == sls.KindIBKey {
		p.d.IBKey.Poke(q.u.ID)
	}
}
