package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/messages"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/notify/smtpmail"
	"github.com/secure-login-system/sls/notify/twilio"
	"github.com/secure-login-system/sls/notify/webhook"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/outbox"
)

// notifyFeature holds the outbox, the SMS factor and the message center.
type notifyFeature struct {
	queue    *outbox.Queue
	worker   *outbox.Worker
	sms      *sms.Factor
	phone    *sms.Phone
	messages *messages.Service
}

func readSecret(path, what string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("server: notify: %s file is required", what)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("server: notify: %s: %w", what, err)
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

// noProvider is the sender of a channel with no provider and no sink:
// every message fails at once, and the operator sees why in the outbox.
type noProvider string

func (n noProvider) Send(context.Context, notify.Message) error {
	return notify.Permanent(fmt.Errorf("channel %s has no provider configured (notify.channels.%s)", string(n), string(n)))
}

func (s *Server) channelSender(name string, c config.Channel, sink notify.Sender) (notify.Sender, error) {
	switch c.Type {
	case "":
		if sink == nil {
			return noProvider(name), nil
		}
		return sink, nil
	case "sink":
		if sink == nil {
			return nil, fmt.Errorf("config: notify: channel %s: type sink needs the test sink on (notify.sink or --demo)", name)
		}
		return sink, nil
	case "webhook":
		secret, err := readSecret(c.SecretFile, name+" webhook secret")
		if err != nil {
			return nil, err
		}
		return webhook.New(webhook.Config{URL: c.URL, Secret: secret, Timeout: c.Timeout.D()})
	case "twilio":
		token, err := readSecret(c.AuthTokenFile, name+" auth token")
		if err != nil {
			return nil, err
		}
		return twilio.New(twilio.Config{BaseURL: c.BaseURL, AccountSID: c.AccountSID, AuthToken: string(token), From: c.From,
			MessagingServiceSID: c.MessagingServiceSID, Timeout: c.Timeout.D()})
	case "smtp":
		var password []byte
		if c.PasswordFile != "" {
			var err error
			if password, err = readSecret(c.PasswordFile, name+" SMTP password"); err != nil {
				return nil, err
			}
		}
		sec := map[string]smtpmail.Security{"": smtpmail.SecurityDefault, "default": smtpmail.SecurityDefault,
			"starttls": smtpmail.SecurityStartTLS, "tls": smtpmail.SecurityImplicitTLS, "opportunistic": smtpmail.SecurityOpportunistic}
		security := sec[c.Security] // config.NotifyConfig checked it
		return smtpmail.New(smtpmail.Config{Addr: c.Addr, From: c.From, Username: c.Username, Password: string(password),
			Security: security, Timeout: c.Timeout.D()})
	}
	return nil, fmt.Errorf("config: notify.channels.%s.type: unknown type %q", name, c.Type)
}

// configureNotify sets up the outbox (s.notifier), the channels, the SMS
// factor and number verification, the message center, and the security
// notifications sent on device and login events.
func (s *Server) configureNotify(ctx context.Context) error {
	nc, err := s.Config.NotifyConfig()
	if err != nil {
		return err
	}
	rules, err := s.Config.SMSRules()
	if err != nil {
		return err
	}
	var sink notify.Sender
	if nc.Sink || s.Opts.Demo {
		sink = &outbox.Sink{Store: s.Store, Clock: s.Clock}
		s.Log.Warn("TEST MESSAGE SINK ON: messages for channels without a provider are kept in the database, not sent; never in production (notify.sink, --demo)")
	}
	routes := map[notify.Channel]notify.Sender{}
	for _, ch := range notify.AllChannels {
		c := nc.Channels[string(ch)]
		sender, err := s.channelSender(string(ch), c, sink)
		if err != nil {
			return err
		}
		routes[ch] = sender
	}
	if sink == nil {
		var none []string
		for _, ch := range notify.AllChannels {
			if nc.Channels[string(ch)].Type == "" {
				none = append(none, string(ch))
			}
		}
		if len(none) > 0 {
			s.Log.Warn("notification channels without a provider: their messages fail (configure notify.channels)", "channels", strings.Join(none, ","))
		}
	}
	router, err := notify.NewRouter(routes)
	if err != nil {
		return err
	}
	delivered := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sls_outbox_attempts_total",
		Help: "Outbox delivery attempts by channel and outcome (sent, retry, failed)."}, []string{"channel", "outcome"})
	// Buckets: a local sink answers in microseconds, an SMS or mail
	// provider in tens to hundreds of milliseconds; adapters time out at
	// tens of seconds.
	deliveryTime := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sls_outbox_delivery_duration_seconds",
		Help:    "Time a provider took to take (or refuse) one outbox message, by channel and outcome.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"channel", "outcome"})
	s.Registry.MustRegister(delivered, deliveryTime)

	f := &s.notify
	f.queue = &outbox.Queue{Sealer: s.Sealer, Clock: s.Clock, Log: s.Log}
	if err := s.configureTakeover(f.queue); err != nil { // wraps s.notifier
		return err
	}
	host, _ := os.Hostname()
	f.worker = &outbox.Worker{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Sender: router, Log: s.Log,
		Owner: host + "/" + strconv.Itoa(os.Getpid()) + "/" + sls.NewID("w"),
		Observe: func(ch, outcome string, took time.Duration) {
			delivered.WithLabelValues(ch, outcome).Inc()
			deliveryTime.WithLabelValues(ch, outcome).Observe(took.Seconds())
		}}
	for range *nc.Workers {
		s.OnStart(f.worker.Run)
	}
	codes := &sms.Codes{Sealer: s.Sealer, Notifier: s.notifier, Rules: rules, Limiter: s.Limiter}
	f.sms = &sms.Factor{Codes: codes}
	s.factors = append(s.factors, f.sms)
	loginCfg, err := s.Config.LoginConfig()
	if err != nil {
		return err
	}
	f.phone = &sms.Phone{Store: s.Store, Codes: codes, Clock: s.Clock,
		NumberChanged: func(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error {
			return s.takeover.StartCoolDown(ctx, tx, u.ID, sls.ChangeMobileChanged, now)
		},
		Lockout: sls.Lockout{MaxFailures: loginCfg.MaxFailures, Cooldown: loginCfg.LockoutCooldown},
		Activate: func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error {
			return s.Manage.ActivateInTx(ctx, tx, actor, u, d, now)
		}}
	f.messages = &messages.Service{Store: s.Store, Sealer: s.Sealer, Notifier: f.queue, Clock: s.Clock}
	s.manageHooks = append(s.manageHooks, notifyHooks{s})
	s.loginHooks = append(s.loginHooks, notifyHooks{s})
	s.API.Extra = append(s.API.Extra, s.notifyRoutes)
	return nil
}

// notifyHooks sends the security notices of device and login events and
// switches SMS login off when IB Key activates.
type notifyHooks struct{ s *Server }

func (h notifyHooks) DeviceActivated(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error {
	if err := sms.DisableForIBKey(ctx, tx, u, d, now); err != nil {
		return err
	}
	if d.Kind == sls.KindSMS {
		return nil // SMS enrollment follows the number's verification, which the user just did
	}
	// Every channel: a device an attacker enrolled is the change the client
	// must hear of first (and it may start a cool-down, package takeover).
	return sls.TellEverywhere(ctx, tx, h.s.notifier, u, sls.Notification{UserID: u.ID, Kind: sls.NoteDeviceActivated,
		Data: map[string]string{"Device": string(d.Kind), "Time": now.Format("2006-01-02 15:04 MST")}})
}

func (h notifyHooks) TempPasscodeIssued(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error {
	cfg := h.s.Login.Config()
	return h.s.notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NoteTempPasscodeIssued,
		Data: map[string]string{"Username": u.Username, "FullUntil": now.Add(cfg.TempPasscodeFull).Format("2006-01-02 15:04 MST"),
			"PortalUntil": now.Add(cfg.TempPasscodeFull + cfg.TempPasscodePortal).Format("2006-01-02 15:04 MST")}})
}

// LoginCompleted notifies a login from a browser or app that never logged
// in as the user (no known-client token), or from a network none of the
// user's sessions came from. The notice names the network (a /24 or a
// /48), not the exact address, and carries a report link.
func (h notifyHooks) LoginCompleted(ctx context.Context, tx sls.Tx, u *sls.User, ss *sls.Session, c login.Client, now time.Time) error {
	network := sls.Network(ss.ClientIP)
	newNetwork := !ss.NetworkSeen
	if c.Known && !newNetwork {
		return nil
	}
	return h.s.notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, User: u, Kind: sls.NoteNewLogin,
		Data: map[string]string{"Platform": string(ss.Platform), "Address": network, "Time": now.Format("2006-01-02 15:04 MST")}})
}

// decodeForUser decodes an operator route's body into v and finds the
// {user} of its path; on failure it has answered.
func (s *Server) decodeForUser(w http.ResponseWriter, r *http.Request, v any) (*sls.User, bool) {
	if err := httpapi.Decode(w, r, v); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return nil, false
	}
	u, err := s.Manage.UserByName(r.Context(), r.PathValue("user"))
	if err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return nil, false
	}
	return u, true
}

func (s *Server) notifyRoutes(a *httpapi.API) []httpapi.Route {
	f := &s.notify
	return []httpapi.Route{
		httpapi.Declare("POST /api/v1/login/resend", sls.ForAnyone, func(w http.ResponseWriter, r *http.Request) {
			var b struct {
				LoginID string `json:"login_id" required:"true"`
				Channel string `json:"channel"`
			}
			if err := httpapi.Decode(w, r, &b); err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			if b.Channel == "" {
				b.Channel = "sms"
			}
			p, err := f.sms.ResendLogin(r.Context(), s.Store, b.LoginID, b.Channel, s.Clock.Now())
			if err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"prompt": p})
		}),
		httpapi.Declare("GET /api/v1/mobile", sls.ForSession, func(w http.ResponseWriter, r *http.Request) {
			st, err := f.phone.Status(r.Context(), httpapi.UserOf(r).ID)
			a.Reply(w, r, http.StatusOK, st, err)
		}),
		httpapi.Declare("POST /api/v1/mobile/verify", sls.ForStepUp, func(w http.ResponseWriter, r *http.Request) {
			var b struct {
				Mobile string `json:"mobile"`
			}
			if err := httpapi.DecodeOptional(w, r, &b); err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			st, err := f.phone.StartVerification(r.Context(), httpapi.UserOf(r).ID, b.Mobile, httpapi.ClientIP(r))
			a.Reply(w, r, http.StatusAccepted, st, err)
		}),
		httpapi.Declare("POST /api/v1/mobile/confirm", sls.ForSession, func(w http.ResponseWriter, r *http.Request) {
			var b struct {
				Code string `json:"code" required:"true"`
			}
			if err := httpapi.Decode(w, r, &b); err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			st, err := f.phone.ConfirmVerification(r.Context(), httpapi.UserOf(r).ID, b.Code)
			a.Reply(w, r, http.StatusOK, st, err)
		}),
		httpapi.Declare("GET /api/v1/preferences", sls.ForSession, func(w http.ResponseWriter, r *http.Request) {
			var p notify.Preferences
			err := s.Store.View(r.Context(), func(tx sls.Tx) error {
				var err error
				p, err = outbox.Preferences(r.Context(), tx, httpapi.UserOf(r))
				return err
			})
			a.Reply(w, r, http.StatusOK, p, err)
		}),
		httpapi.Declare("PUT /api/v1/preferences", sls.ForStepUp, func(w http.ResponseWriter, r *http.Request) {
			var p notify.Preferences
			if err := httpapi.Decode(w, r, &p); err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			err := s.savePreferences(r.Context(), httpapi.UserOf(r), p)
			a.Reply(w, r, http.StatusOK, p, err)
		}),
		httpapi.Declare("GET /api/v1/messages", sls.ForSession, func(w http.ResponseWriter, r *http.Request) {
			list, err := f.messages.List(r.Context(), httpapi.UserOf(r).ID)
			if list == nil {
				list = []messages.Message{}
			}
			a.Reply(w, r, http.StatusOK, map[string]any{"messages": list}, err)
		}),
		httpapi.Declare("POST /api/v1/ops/users/{user}/messages", sls.ForRoles(sls.RoleClientServices), func(w http.ResponseWriter, r *http.Request) {
			var b struct {
				Summary string `json:"summary" required:"true"`
				Body    string `json:"body" required:"true"`
			}
			u, ok := s.decodeForUser(w, r, &b)
			if !ok {
				return
			}
			msg, err := f.messages.Send(r.Context(), sls.ActorOperator(httpapi.OperatorOf(r)), u.ID, b.Summary, b.Body)
			if msg != nil {
				msg.Body = "" // the operator wrote it; no need to echo it
			}
			a.Reply(w, r, http.StatusCreated, msg, err)
		}),
		httpapi.Declare("PUT /api/v1/ops/users/{user}/mobile", sls.ForRoles(sls.RoleClientServices).WithApproval(operators.ActionMobileChange),
			func(w http.ResponseWriter, r *http.Request) {
				var b struct {
					Mobile               string `json:"mobile" required:"true"`
					IdentityVerification string `json:"identity_verification" required:"true"`
				}
				u, ok := s.decodeForUser(w, r, &b)
				if !ok {
					return
				}
				if err := f.phone.SetByOperator(r.Context(), httpapi.OperatorActor(r), u.ID, b.Mobile, b.IdentityVerification); err != nil {
					httpapi.WriteError(w, r, a.Log, err)
					return
				}
				st, err := f.phone.Status(r.Context(), u.ID)
				a.Reply(w, r, http.StatusOK, st, err)
			}),
		httpapi.Declare("GET /api/v1/ops/sink", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam), func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			limit, err := strconv.Atoi(orDefault(q.Get("limit"), "1000"))
			if err != nil || limit < 1 || limit > 10000 {
				httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeInvalidArgument, "limit must be between 1 and 10000."))
				return
			}
			var list []*sls.SinkMessage
			err = s.Store.View(r.Context(), func(tx sls.Tx) error {
				var err error
				list, err = tx.SinkMessages(r.Context(), q.Get("to"), q.Get("kind"), limit)
				return err
			})
			if list == nil {
				list = []*sls.SinkMessage{}
			}
			a.Reply(w, r, http.StatusOK, map[string]any{"messages": list}, err)
		}),
		httpapi.Declare("GET /api/v1/ops/outbox", sls.ForRoles(sls.RoleSecurityTeam, sls.RoleAuditor), func(w http.ResponseWriter, r *http.Request) {
			state := sls.OutboxState(orDefault(r.URL.Query().Get("state"), string(sls.OutboxPending)))
			var list []*sls.OutboxMessage
			err := s.Store.View(r.Context(), func(tx sls.Tx) error {
				var err error
				list, err = tx.OutboxMessages(r.Context(), state, 1000)
				return err
			})
			if list == nil {
				list = []*sls.OutboxMessage{}
			}
			a.Reply(w, r, http.StatusOK, map[string]any{"messages": list}, err)
		}),
	}
}

func (s *Server) savePreferences(ctx context.Context, u *sls.User, p notify.Preferences) error {
	if err := p.Validate(); err != nil {
		return err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.PutUserPrefs(ctx, u.ID, raw); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), "preferences.changed", u.ID, "",
			map[string]any{"primary_lang": p.PrimaryLang, "secondary_lang": p.SecondaryLang})
	})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
