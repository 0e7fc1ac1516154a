package ibkey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	proto "github.com/secure-login-system/sls/ibkey"
	"github.com/secure-login-system/sls/login"
)

// Routes declares the feature's endpoints (see docs/ibkey.md). Portal
// endpoints take the user's session, and handing out an activation
// ticket needs a device proven in it just now (a password alone must
// never enrol a device); app endpoints take the instance's token
// (Authorization: Bearer ibk_…); activation is authorised by the ticket in
// its body.
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	a.AppAuth = s.instance(a)
	app := func(h handler) http.HandlerFunc { return func(w http.ResponseWriter, r *http.Request) { h(a, w, r) } }
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/ibkey/ticket", sls.ForStepUp, s.getTicket),
		httpapi.Declare("GET /api/v1/ibkey/ticket/qr.png", sls.ForStepUp, s.getTicketPNG),
		httpapi.Declare("POST /api/v1/ibkey/activate", sls.ForAnyone, s.activate(a)),
		httpapi.Declare("POST /api/v1/ibkey/app/adduser", sls.ForApp, app(s.addUser)),
		httpapi.Declare("GET /api/v1/ibkey/app/users", sls.ForApp, app(s.users)),
		httpapi.Declare("GET /api/v1/ibkey/app/pushes", sls.ForApp, app(s.pushes)),
		httpapi.Declare("GET /api/v1/ibkey/app/events", sls.ForApp, app(s.events)),
		httpapi.Declare("POST /api/v1/ibkey/app/answer", sls.ForApp, app(s.answer)),
		httpapi.Declare("POST /api/v1/ibkey/app/reauth/nonce", sls.ForApp, app(s.reauthNonce)),
		httpapi.Declare("POST /api/v1/ibkey/app/reauth", sls.ForApp, app(s.reauth)),
		httpapi.Declare("POST /api/v1/login/wait", sls.ForAnyone, s.wait(a)),
	}
}

type instanceKey struct{}

func instanceOf(r *http.Request) *sls.IBKeyInstance {
	in, _ := r.Context().Value(instanceKey{}).(*sls.IBKeyInstance)
	return in
}

type handler func(a *httpapi.API, w http.ResponseWriter, r *http.Request)

// instance authenticates an app instance by its bearer token: the API's
// authenticator of sls.CallerApp routes.
func (s *Service) instance(a *httpapi.API) func(http.HandlerFunc) http.Handler {
	return func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok := ""
			if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				tok = strings.TrimSpace(v[7:])
			}
			var in *sls.IBKeyInstance
			err := error(sls.ErrUnauthenticated)
			if strings.HasPrefix(tok, "ibk_") && len(tok) < 128 {
				// One statement: no transaction around it (on PostgreSQL
				// that saves two round trips on every app request).
				err = s.d.Store.Read(r.Context(), func(tx sls.Tx) error {
					var e error
					in, e = tx.IBKeyInstanceByTokenHash(r.Context(), sls.TokenHash(tok))
					return e
				})
				if errors.Is(err, sls.ErrNotFound) {
					err = sls.ErrUnauthenticated
				}
			}
			if err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			h(w, r.WithContext(context.WithValue(r.Context(), instanceKey{}, in)))
		})
	}
}

func (s *Service) getTicket(w http.ResponseWriter, r *http.Request) {
	t, _, err := s.Ticket(r.Context(), httpapi.SessionOf(r))
	if err != nil {
		httpapi.WriteError(w, r, s.log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
}

func (s *Service) getTicketPNG(w http.ResponseWriter, r *http.Request) {
	_, code, err := s.Ticket(r.Context(), httpapi.SessionOf(r))
	if err != nil {
		httpapi.WriteError(w, r, s.log, err)
		return
	}
	png, err := QRPNG(code, 320)
	if err != nil {
		httpapi.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store") // the image is a bearer secret
	w.Write(png)
}

func (s *Service) activate(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req proto.ActivateRequest
		if err := httpapi.Decode(w, r, &req); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		resp, err := s.Activate(r.Context(), req, httpapi.ClientIP(r))
		if err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusCreated, resp)
	}
}

func (s *Service) addUser(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var req proto.AddUserRequest
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	resp, err := s.AddUser(r.Context(), instanceOf(r), req, httpapi.ClientIP(r))
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, resp)
}

// InstanceUser is one user an instance holds, as the app lists them.
type InstanceUser struct {
	UserID   string          `json:"user_id"`
	Username string          `json:"username"`
	DeviceID string          `json:"device_id"`
	State    sls.DeviceState `json:"state"`
}

func (s *Service) users(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	in := instanceOf(r)
	var out []InstanceUser
	err := s.d.Store.View(r.Context(), func(tx sls.Tx) error {
		out = []InstanceUser{}
		devs, err := tx.IBKeyDevices(r.Context(), in.ID)
		if err != nil {
			return err
		}
		for _, d := range devs {
			u, err := tx.User(r.Context(), d.UserID)
			if err != nil {
				return err
			}
			out = append(out, InstanceUser{UserID: u.ID, Username: u.Username, DeviceID: d.ID, State: d.State})
		}
		return nil
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"instance_id": in.ID, "platform": in.Platform, "users": out})
}

func (s *Service) pushes(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	list, _, err := s.Pending(r.Context(), instanceOf(r))
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	if list == nil {
		list = []proto.Push{}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"pushes": list})
}

func (s *Service) answer(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var ap proto.Approval
	if err := httpapi.Decode(w, r, &ap); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	res, err := s.Answer(r.Context(), instanceOf(r), ap)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
}

func (s *Service) reauthNonce(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, proto.ReauthNonce{Nonce: s.ReauthNonce(instanceOf(r))})
}

func (s *Service) reauth(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var req proto.ReauthRequest
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	res, err := s.Reauth(r.Context(), instanceOf(r), req)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
}

// safetyBeats: an idle connection re-reads its pending pushes every 20
// heartbeats (5 minutes by default) — cheap even with many thousand
// connections per node.
const safetyBeats = 20

// instanceTopic is the hub key that wakes an instance's connections when
// its set of users changes.
func instanceTopic(id string) string { return "instance:" + id }

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		if m[x]--; m[x] < 0 {
			return false
		}
	}
	return true
}

// touch records when the instance last connected (at most once a minute).
func (s *Service) touch(ctx context.Context, in *sls.IBKeyInstance) {
	now := s.now()
	if now.Sub(in.LastSeenAt) < time.Minute {
		return
	}
	_ = s.d.Store.Update(ctx, func(tx sls.Tx) error {
		cur, err := tx.IBKeyInstance(ctx, in.ID)
		if err != nil {
			return err
		}
		cur.LastSeenAt = now
		return tx.PutIBKeyInstance(ctx, cur)
	})
}

type waitBody struct {
	LoginID   string `json:"login_id" required:"true"`
	TimeoutMS int    `json:"timeout_ms"`
}

// waitStep is a login step with whether it changed during the wait.
type waitStep struct {
	*login.Step
	Changed bool `json:"changed"`
}

// wait is POST /api/v1/login/wait: the login page holds it open and
// learns at once when the push is approved, denied or expires (or any
// other change of the login's state or prompt).
func (s *Service) wait(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b waitBody
		if err := httpapi.Decode(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		if b.TimeoutMS < 0 || b.TimeoutMS > int(login.MaxWait/time.Millisecond) {
			httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeInvalidArgument, "timeout_ms must be between 0 and %d.", login.MaxWait/time.Millisecond))
			return
		}
		timeout := time.Duration(b.TimeoutMS) * time.Millisecond
		if timeout == 0 {
			timeout = 20 * time.Second
		}
		step, changed, err := s.d.Login().Wait(r.Context(), b.LoginID, timeout, s.wakeFirst(), Settled)
		if err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, waitStep{Step: step, Changed: changed})
	}
}

// wakeFirst is the wait's login.Wake. Its first call also wakes this
// node's app connections of the login's user: the login page calls wait
// once its login committed, so a push just created is visible now, and
// reaches the app ahead of the next database poll — without a read of
// its own (Wait has just read the login). The poke comes before the
// subscription, which it would otherwise fire.
func (s *Service) wakeFirst() login.Wake {
	first := true
	return func(userID string) (<-chan struct{}, func()) {
		if first {
			first = false
			s.hub.Poke(userID)
		}
		return s.hub.Subscribe(userID)
	}
}

// Settled is login.Settled for IB Key logins: the page has something to
// do unless the push is still pending (approved: complete the login;
// denied, expired, rejected or off: show it and offer challenge/response).
func Settled(st *login.Step) bool {
	if st.Prompt == nil || st.Prompt.Kind != sls.KindIBKey {
		return false
	}
	var x promptExtra
	_ = json.Unmarshal(st.Prompt.Extra, &x)
	return x.Push != sls.PushPending
}
