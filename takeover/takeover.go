// Package takeover closes the window an attacker with a phished password
// and a freshly enrolled device would use, and lets the client stop an
// attack the moment it is seen.
//
//   - A security change (a device added beside others or replacing one, a
//     password reset, a new mobile number) starts a cool-down: for Config
//     .CoolDown (72 hours, the SMS rule's period, SPEC §3) withdrawals are
//     held to a lower tier and banking-instruction changes wait, unless
//     Client Services clears it.
//   - Every notice of such a change, and of a login from somewhere new,
//     carries a single-use "this wasn't me" link. Following it (or denying
//     an IB Key push as "this wasn't me") locks the user until Client
//     Services unlocks them, ends every session, alerts the Security Team
//     and records who reported it from where.
//
// Only the user can report: a link goes to the user's own channels alone
// and works once within Config.LinkTTL, and the app's denial is signed
// by the user's activated IB Key. Nobody else can lock a user out this
// way, however many reports they send (unknown links change nothing and
// are rate-limited per address).
package takeover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// Defaults. The cool-down follows the existing 72-hour rule for SMS after
// a number change (SPEC §3); its tier is what a client may move while
// nobody can yet tell a takeover from a real change, far below every
// device's limit (SPEC §4's lowest is USD 50,000 a day).
const (
	DefaultCoolDown     = 72 * time.Hour
	DefaultDayLimit     = 10_000 * policy.Dollar
	DefaultFiveDayLimit = 10_000 * policy.Dollar
	// DefaultLinkTTL: a notice is read within days; a week covers a
	// holiday without leaving links usable for long.
	DefaultLinkTTL = 7 * 24 * time.Hour
)

// Config is the "takeover" part of the policy section.
type Config struct {
	// CoolDownOff turns the cool-down off (reports still work).
	CoolDownOff  bool
	CoolDown     time.Duration
	DayLimit     int64 // US cents
	FiveDayLimit int64 // US cents
	LinkTTL      time.Duration
	// PublicURL is the portal's public base URL report links start with
	// (the server's own address when not configured).
	PublicURL string
	// SecurityTeam is the email address alerted when a user reports a
	// takeover ("": the alert is only in the audit trail and the log).
	SecurityTeam string
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.CoolDown == 0 {
		c.CoolDown = DefaultCoolDown
	}
	if c.DayLimit == 0 {
		c.DayLimit = DefaultDayLimit
	}
	if c.FiveDayLimit == 0 {
		c.FiveDayLimit = DefaultFiveDayLimit
	}
	if c.LinkTTL == 0 {
		c.LinkTTL = DefaultLinkTTL
	}
	return c
}

// Limit is the cool-down tier.
func (c Config) Limit() policy.Limit {
	return policy.Limit{Basis: BasisCoolDown, Day: c.DayLimit, FiveDay: c.FiveDayLimit}
}

// BasisCoolDown is the limit basis while a cool-down holds.
const BasisCoolDown = "cool_down"

// Keys makes keyed hashes with a key held outside the database.
type Keys interface {
	KeyedHash(purpose string, data []byte) []byte
}

// Service applies the rules.
type Service struct {
	Store    sls.Store
	Keys     Keys
	Clock    sls.Clock
	Notifier sls.Notifier // nil: no alert, no notice
	Config   Config
	Log      *slog.Logger
	// Lock locks the user until an operator unlocks them, in tx (the
	// manage service's lock, so that an unlock clears it).
	Lock func(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time)
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

func (s *Service) cfg() Config { return s.Config.WithDefaults() }

// StartCoolDown starts (or extends) the user's cool-down for change in tx.
// A later change never shortens one that runs longer.
func (s *Service) StartCoolDown(ctx context.Context, tx sls.Tx, userID, change string, now time.Time) error {
	if s.cfg().CoolDownOff {
		return nil
	}
	until := now.Add(s.cfg().CoolDown)
	prev, err := tx.CoolDown(ctx, userID)
	switch {
	case err == nil && !prev.Until.Before(until):
		return nil
	case err != nil && !errors.Is(err, sls.ErrNotFound):
		return err
	}
	if err := tx.PutCoolDown(ctx, &sls.CoolDown{UserID: userID, Reason: change, StartedAt: now, Until: until}); err != nil {
		return err
	}
	return sls.Audit(ctx, tx, now, sls.ActorSystem, sls.EventCoolDownStarted, userID, "", map[string]any{"change": change, "until": until})
}

// Active returns the user's cool-down when it holds at now, else nil.
func Active(ctx context.Context, tx sls.Tx, userID string, now time.Time) (*sls.CoolDown, error) {
	c, err := tx.CoolDown(ctx, userID)
	if errors.Is(err, sls.ErrNotFound) || (err == nil && !c.Active(now)) {
		return nil, nil
	}
	return c, err
}

// ClearCoolDown ends the user's cool-down by Client Services' decision
// (after they verified the change with the client); reason is recorded.
func (s *Service) ClearCoolDown(ctx context.Context, actor string, u *sls.User, reason string) error {
	reason = strings.TrimSpace(reason)
	if len(reason) < 3 || len(reason) > 500 {
		return sls.Errorf(sls.CodeInvalidArgument, "Record how the change was verified with the client (3 to 500 characters).").WithDetail("field", "reason")
	}
	now := s.now()
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := Active(ctx, tx, u.ID, now)
		if err != nil {
			return err
		}
		if c == nil {
			return sls.Errorf(sls.CodeConflict, "%s is not in a cool-down.", u.Username)
		}
		if err := tx.DeleteCoolDown(ctx, u.ID); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, sls.EventCoolDownCleared, u.ID, "", map[string]any{"reason": reason, "change": c.Reason, "was_until": c.Until})
	})
}

const linkPurpose = "report link v1"

func (s *Service) linkHash(token string) string {
	return fmt.Sprintf("%x", s.Keys.KeyedHash(linkPurpose, []byte(token)))
}

// ReportPath is where a report link points under the public URL.
const ReportPath = "/report/"

// NewReportLink makes a single-use "this wasn't me" link for the notice
// of kind notice to the user, in tx, and returns its URL; "" while the
// public URL is not known (a server that does not listen yet).
func (s *Service) NewReportLink(ctx context.Context, tx sls.Tx, userID, notice string, now time.Time) (string, error) {
	if s.cfg().PublicURL == "" {
		return "", nil
	}
	token := sls.NewToken("rpt")
	l := &sls.ReportLink{TokenHash: s.linkHash(token), UserID: userID, Notice: notice, CreatedAt: now, ExpiresAt: now.Add(s.cfg().LinkTTL)}
	if err := tx.CreateReportLink(ctx, l); err != nil {
		return "", err
	}
	return strings.TrimRight(s.cfg().PublicURL, "/") + ReportPath + token, nil
}

// ErrUnknownLink answers every link that cannot report: unknown, spent or
// expired alike, so that the answer tells a guesser nothing.
var ErrUnknownLink = sls.Errorf(sls.CodeNotFound, "This link is not valid: it was used already, it expired, or it never existed. If you did not make a change to your account, call Client Services.")

// Source is who reported, from where.
type Source struct {
	Via       string // "link" or "ibkey"
	ClientIP  string
	UserAgent string
}

// Report follows a report link: the user is locked until Client Services
// unlocks them, every session ends, the Security Team is alerted, and the
// link is spent. The username is returned for the answer page.
func (s *Service) Report(ctx context.Context, token string, src Source) (string, error) {
	if !strings.HasPrefix(token, "rpt_") || len(token) > 100 {
		return "", ErrUnknownLink
	}
	now := s.now()
	var username string
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		l, err := tx.ReportLinkForUpdate(ctx, s.linkHash(token))
		if errors.Is(err, sls.ErrNotFound) || (err == nil && (!l.UsedAt.IsZero() || !now.Before(l.ExpiresAt))) {
			return ErrUnknownLink
		}
		if err != nil {
			return err
		}
		if err := tx.SpendReportLink(ctx, l.TokenHash, now); err != nil {
			return err
		}
		u, err := tx.UserForUpdate(ctx, l.UserID)
		if err != nil {
			return err
		}
		username = u.Username
		return s.ReportInTx(ctx, tx, u, src, l.Notice, now)
	})
	return username, err
}

// ReportUser takes the report of a logged-in user ("this wasn't me" on
// the portal's sessions page): the same as a link's.
func (s *Service) ReportUser(ctx context.Context, userID string, src Source) error {
	now := s.now()
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		return s.ReportInTx(ctx, tx, u, src, "portal", now)
	})
}

// ReportInTx applies a report in tx (u's row locked): a link's, or an IB
// Key denial marked "this wasn't me". A user already locked by a report
// stays as they are; the report is recorded, and the Security Team is
// alerted once.
func (s *Service) ReportInTx(ctx context.Context, tx sls.Tx, u *sls.User, src Source, notice string, now time.Time) error {
	already := u.Locked(now)
	if !already {
		s.Lock(ctx, tx, u, now)
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
	}
	ended, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: u.ID}, sls.EndTakeoverReported, sls.ActorUser(u.ID), now)
	if err != nil {
		return err
	}
	network := sls.Network(src.ClientIP)
	if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventTakeoverReported, u.ID, "", map[string]any{
		"via": src.Via, "notice": notice, "ip": src.ClientIP, "user_agent": clip(src.UserAgent, 200), "sessions_ended": len(ended),
		"already_locked": already}); err != nil {
		return err
	}
	if s.Log != nil {
		s.Log.Warn("takeover reported by the user: locked until Client Services unlocks", "user_id", u.ID, "via", src.Via, "network", network)
	}
	if already || s.Notifier == nil {
		return nil
	}
	when := now.Format("2006-01-02 15:04 MST")
	if err := s.Notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NoteTakeoverReported,
		Data: map[string]string{"Time": when}}); err != nil {
		return err
	}
	if team := s.cfg().SecurityTeam; team != "" {
		return s.Notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NoteSecurityAlert, Channel: "email", To: team,
			Data: map[string]string{"Username": u.Username, "Via": src.Via, "Network": network, "Time": when}})
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Purge deletes report links a day past their expiry.
func (s *Service) Purge(ctx context.Context, now time.Time) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.PurgeReportLinks(ctx, now.Add(-24*time.Hour))
		return err
	})
}
