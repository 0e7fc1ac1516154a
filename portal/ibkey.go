package portal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/ibkey"
	"github.com/secure-login-system/sls/login"
)

// IBKey is what the pages need of the IB Key feature (package
// factor/ibkey, adapted in package server).
type IBKey interface {
	// Activation returns the activation ticket of a portal session: the
	// same one while it is unused and unexpired, a fresh one after that
	// and after logging out and in.
	Activation(ctx context.Context, ss *sls.Session) (*Activation, error)
	// Wake is login.Wake for the login page's wait: a channel closed at
	// the next change of the user's pushes on any node.
	Wake(userID string) (<-chan struct{}, func())
	// Poke wakes this node's app connections of a user whose push was
	// just created, ahead of the next database poll.
	Poke(userID string)
}

// Activation is the QR code and the activation string under it.
type Activation struct {
	Code      string // the alphanumeric string, grouped for reading
	QRPNG     []byte // the QR code
	ExpiresAt time.Time
	// HasIBKey: the user already has an active IB Key (the banner is for
	// users without one; the page still serves a move to a new phone).
	HasIBKey bool
}

type activationView struct {
	Code string
	QR   template.URL // data: URL of the PNG (the CSP allows data: images, nothing else inline)
	// AppLink opens the IB Key app on the phone that shows the page (which
	// cannot scan its own screen): the QR payload itself, "SLSIBKEY:" and
	// the compact string, which is a URI of scheme slsibkey and what the
	// app's ParseQR already reads.
	AppLink   template.URL
	ExpiresAt time.Time
	HasIBKey  bool
}

func (p *Portal) activation(q *req) (*activationView, error) {
	a, err := p.d.IBKey.Activation(q.r.Context(), q.ss)
	if err != nil {
		return nil, err
	}
	return &activationView{Code: a.Code, ExpiresAt: a.ExpiresAt, HasIBKey: a.HasIBKey,
		AppLink: template.URL(ibkey.QRPrefix + strings.ReplaceAll(a.Code, "-", "")),
		QR:      template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(a.QRPNG))}, nil
}

// ibkeyPage shows the QR code for activating IB Key (or moving it to a new
// phone), with the steps of the seed articles.
func (p *Portal) ibkeyPage(q *req) {
	a, err := p.activation(q)
	if err != nil {
		q.status = statusOf(err)
		q.render("ibkey", q.t("ibkey.title"), (*activationView)(nil), withError(q.errText(err)))
		return
	}
	q.render("ibkey", q.t("ibkey.title"), a)
}

// pokeIBKey tells the app connections of the login's user that a push
// may be waiting, so the phone hears of it at once.
func (p *Portal) pokeIBKey(q *req, loginID string, st *login.Step) {
	if p.d.IBKey == nil || st == nil || st.Prompt == nil || st.Prompt.Kind != sls.KindIBKey {
		return
	}
	if uid := p.loginUser(q.r.Context(), loginID); uid != "" {
		p.d.IBKey.Poke(uid)
	}
}

func (p *Portal) loginUser(ctx context.Context, loginID string) string {
	var uid string
	_ = p.d.Store.View(ctx, func(tx sls.Tx) error {
		l, err := tx.Login(ctx, sls.TokenHash(loginID))
		if err == nil {
			uid = l.UserID
		}
		return err
	})
	return uid
}

// pushSettled: the push is no longer waiting (approved, denied, expired…),
// so the page has something to do at once.
func pushSettled(st *login.Step) bool {
	if st.Prompt == nil || st.Prompt.Kind != sls.KindIBKey {
		return true
	}
	x := readPushExtra(st.Prompt)
	return x.Push != "" && x.Push != sls.PushPending
}

// waitAnswer is the push page script's answer.
type waitAnswer struct {
	// Changed: reload the page (or, with Push "approved", post the
	// continue form).
	Changed bool   `json:"changed"`
	State   string `json:"state,omitempty"`
	Push    string `json:"push,omitempty"`
}

// pushWait bounds one wait; the script asks again. It stays under the
// HTTP server's 30-second read timeout (login.MaxWait).
const pushWait = 20 * time.Second

// loginWait holds the push page's request until the login changes (the
// push is approved, denied or expires) or pushWait passes.
func (p *Portal) loginWait(q *req) {
	writeJSON := func(status int, v any) {
		q.w.Header().Set("Content-Type", "application/json; charset=utf-8")
		q.w.WriteHeader(status)
		_ = json.NewEncoder(q.w).Encode(v)
	}
	c, ok := q.loginState()
	if !ok || p.d.IBKey == nil {
		writeJSON(http.StatusOK, waitAnswer{Changed: true})
		return
	}
	var wake login.Wake = p.d.IBKey.Wake
	st, changed, err := p.d.Login.Wait(q.r.Context(), c.ID, pushWait, wake, pushSettled)
	if err != nil {
		writeJSON(http.StatusOK, waitAnswer{Changed: true}) // the page shows why on reload
		return
	}
	ans := waitAnswer{Changed: changed, State: string(st.State)}
	if st.Prompt != nil {
		ans.Push = readPushExtra(st.Prompt).Push
	}
	if st.State == sls.LoginCompleted || st.State == sls.LoginFailed {
		ans.Changed = true
	}
	writeJSON(http.StatusOK, ans)
}
