package ibkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
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
				err = s.d.Store.View(r.Context(), func(tx sls.Tx) error {
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

// shutdowns closes app connections when their HTTP server shuts down:
// http.Server.Shutdown waits for active requests, and a push connection
// is never idle.
var shutdowns sync.Map // *http.Server → chan struct{}

func shutdownSignal(r *http.Request) <-chan struct{} {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	ch := make(chan struct{})
	actual, loaded := shutdowns.LoadOrStore(srv, ch)
	if !loaded {
		srv.RegisterOnShutdown(func() { close(ch) })
	}
	return actual.(chan struct{})
}

// events is the app's long-lived connection (server-sent events, the
// WHATWG HTML "text/event-stream" format): a "push" event for each new
// request to a user the instance holds, "closed" when one stops waiting,
// and a comment line as heartbeat. It needs no third-party push service.
func (s *Service) events(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	in := instanceOf(r)
	rc := http.NewResponseController(w)
	// The server's ReadTimeout would end (and cancel) a connection that
	// lives longer; the stream reads nothing after its headers.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s.streams.Add(1)
	defer s.streams.Add(-1)
	send := func(ev proto.Event) error {
		b, _ := json.Marshal(ev)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(proto.Event{Type: "hello"}); err != nil {
		return
	}
	s.touch(r.Context(), in)
	stop := shutdownSignal(r)
	end := time.NewTimer(s.cfg.StreamLifetime.D())
	defer end.Stop()
	beat := time.NewTicker(s.cfg.Heartbeat.D())
	defer beat.Stop()
	sent := map[string]bool{}
	// Subscribed to the instance itself (Add User and migration poke it)
	// and to its users; re-subscribed whenever the user set changes. The
	// subscription is taken before each read, so no change slips between.
	var users []string
	beats := 0
	for {
		wake, cancel := s.hub.Subscribe(append([]string{instanceTopic(in.ID)}, users...)...)
		pending, now, err := s.Pending(r.Context(), in)
		if err != nil {
			cancel()
			return
		}
		if !sameSet(users, now) {
			cancel()
			users = now
			continue
		}
		open := map[string]bool{}
		for _, p := range pending {
			open[p.ID] = true
			if !sent[p.ID] {
				if send(proto.Event{Type: "push", Push: &p}) != nil {
					cancel()
					return
				}
				sent[p.ID] = true
			}
		}
		for id := range sent {
			if !open[id] {
				if send(proto.Event{Type: "closed", ID: id}) != nil {
					cancel()
					return
				}
				delete(sent, id)
			}
		}
	wait:
		for {
			select {
			case <-r.Context().Done():
				cancel()
				return
			case <-stop:
				cancel()
				return
			case <-end.C:
				cancel()
				return
			case <-wake:
				break wait
			case <-beat.C:
				if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
					cancel()
					return
				}
				// Every safetyBeats heartbeats, re-read in case a change
				// escaped the database poll (a commit slower than its overlap).
				if beats++; beats%safetyBeats == 0 {
					break wait
				}
			}
		}
		cancel()
	}
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
		s.pokeLogin(r.Context(), b.LoginID)
		step, changed, err := s.d.Login().Wait(r.Context(), b.LoginID, timeout, s.hub.Subscribe1, Settled)
		if err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, waitStep{Step: step, Changed: changed})
	}
}

// pokeLogin wakes the app connections on this node of the login's user:
// the login page calls wait after its login committed, so a new push is
// visible now, ahead of the next poll.
func (s *Service) pokeLogin(ctx context.Context, loginID string) {
	if loginID == "" || len(loginID) > 128 {
		return
	}
	_ = s.d.Store.View(ctx, func(tx sls.Tx) error {
		l, err := tx.Login(ctx, sls.TokenHash(loginID))
		if err == nil && l.State == sls.LoginChallenged {
			s.hub.Poke(l.UserID)
		}
		return nil
	})
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
