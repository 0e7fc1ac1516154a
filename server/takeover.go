package server

import (
	"context"
	"maps"
	"net/http"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/scheduler"
	"github.com/secure-login-system/sls/takeover"
)

// configureTakeover builds account-takeover protection (package
// takeover): the cool-down after security changes, report links in the
// security notices (s.notifier passes every notice through it), the
// report page and route, and the purge of spent links. Config section
// "takeover".
func (s *Server) configureTakeover(queue sls.Notifier) error {
	cfg, err := s.Config.TakeoverConfig()
	if err != nil {
		return err
	}
	svc := &takeover.Service{Store: s.Store, Keys: s.Sealer, Clock: s.Clock, Notifier: queue, Config: cfg, Log: s.Log,
		Lock: func(_ context.Context, _ sls.Tx, u *sls.User, now time.Time) {
			u.LockedUntil = now.Add(manage.LockForever)
		}}
	s.takeover = svc
	s.notifier = reportingNotifier{next: queue, svc: svc}
	s.manageHooks = append(s.manageHooks, takeoverHooks{svc})
	s.API.Extra = append(s.API.Extra, s.takeoverRoutes)
	s.Scheduler.Add(scheduler.Job{Name: "takeover-purge-links", Every: time.Hour, Run: svc.Purge})
	return nil
}

// setReportBase gives report links the server's own URL when the
// configuration names no public URL.
func (s *Server) setReportBase(base string) {
	if s.takeover != nil && s.takeover.Config.PublicURL == "" {
		s.takeover.Config.PublicURL = base
		s.Log.Info("\"this wasn't me\" links in notices use the listening address; set takeover.public_url to the portal's public URL", "base", base)
	}
}

// reportingNotifier adds a "this wasn't me" link to every security notice
// that may carry one (notify.Kind.Reportable), made in the notice's own
// transaction.
type reportingNotifier struct {
	next sls.Notifier
	svc  *takeover.Service
}

func (n reportingNotifier) Notify(ctx context.Context, tx sls.Tx, note sls.Notification) error {
	if note.UserID != "" && notify.Kind(note.Kind).Reportable() {
		link, err := n.svc.NewReportLink(ctx, tx, note.UserID, note.Kind, n.svc.Clock.Now().UTC())
		if err != nil {
			return err
		}
		if link == "" {
			return n.next.Notify(ctx, tx, note)
		}
		data := maps.Clone(note.Data)
		if data == nil {
			data = map[string]string{}
		}
		data[notify.ReportURL] = link
		note.Data = data
	}
	return n.next.Notify(ctx, tx, note)
}

// takeoverHooks start a cool-down when a device is activated for a user
// who already had one: a device added beside others, or a replacement.
// A user's first device raises their limits as designed (before it they
// withdrew at the lowest tier) and starts none.
type takeoverHooks struct{ svc *takeover.Service }

func (h takeoverHooks) DeviceActivated(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error {
	devices, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, o := range devices {
		if o.ID != d.ID && !o.ActivatedAt.IsZero() && !o.Kind.Temporary() {
			return h.svc.StartCoolDown(ctx, tx, u.ID, sls.ChangeDeviceAdded, now)
		}
	}
	return nil
}

func (takeoverHooks) TempPasscodeIssued(context.Context, sls.Tx, *sls.User, time.Time) error {
	return nil
}

// takeoverRoutes: the report link's API twin (the portal serves the page)
// and Client Services clearing a cool-down.
func (s *Server) takeoverRoutes(a *httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("POST /api/v1/report", sls.ForAnyone, s.reportTakeover),
		httpapi.Declare("DELETE /api/v1/ops/users/{user}/cool-down", sls.ForRoles(sls.RoleClientServices), s.opClearCoolDown),
	}
}

type reportBody struct {
	Token string `json:"token" required:"true"`
}

// reportTakeover follows a report link (for apps that open the link
// themselves). Unknown, spent and expired links get one answer, and the
// address is rate-limited: guessing links is pointless and slow.
func (s *Server) reportTakeover(w http.ResponseWriter, r *http.Request) {
	var b reportBody
	if err := httpapi.Decode(w, r, &b); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	username, err := s.Report(r, b.Token)
	if err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"reported": true, "username": username, "locked": true})
}

// Report follows a report link from the request's client, rate-limited
// per address (the portal's report page uses it too).
func (s *Server) Report(r *http.Request, token string) (string, error) {
	ip := httpapi.ClientIP(r)
	if err := s.Limiter.Take(r.Context(), ratelimit.ReportAddress, ratelimit.AddressKey(ip)); err != nil {
		return "", err
	}
	return s.takeover.Report(r.Context(), token, takeover.Source{Via: "link", ClientIP: ip, UserAgent: r.UserAgent()})
}

func (s *Server) opClearCoolDown(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason string `json:"reason" required:"true"`
	}
	u, ok := s.decodeForUser(w, r, &b)
	if !ok {
		return
	}
	if err := s.takeover.ClearCoolDown(r.Context(), httpapi.OperatorActor(r), u, b.Reason); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
