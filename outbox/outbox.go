// Package outbox is the durable queue between the events that cause a
// message (a login code, a shipped card, a new login) and the channels that
// deliver it. A message is written in the same database transaction as its
// event, so it exists if and only if the event committed; a worker on any
// node then leases it, delivers it through a notify.Sender, and records the
// outcome, retrying temporary failures with exponential backoff.
//
// Delivery is at-least-once: a node that dies after sending but before
// recording the outcome leaves the lease to run out, and another node sends
// again. Every message carries a stable id that receivers use to drop the
// duplicate (the local sink does; the webhook sends it as Idempotency-Key),
// which makes delivery exactly-once for them.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/seal"
)

// BodyPlace is where a message's body is sealed.
func BodyPlace(id string) seal.Place {
	return seal.Place{Table: "outbox", Column: "body_sealed", Row: id}
}

// Queue implements sls.Notifier: it renders a notification in the user's
// language for each channel the user wants (or the one forced) and writes
// it to the outbox inside the caller's transaction.
type Queue struct {
	Sealer *seal.Sealer
	Clock  sls.Clock
	Log    *slog.Logger
}

var _ sls.Notifier = (*Queue)(nil)

// Preferences returns the user's message-center preferences (the
// defaults, in the user's language, when never set).
func Preferences(ctx context.Context, tx sls.Tx, u *sls.User) (notify.Preferences, error) {
	p := notify.Default()
	raw, err := tx.UserPrefs(ctx, u.ID)
	switch {
	case errors.Is(err, sls.ErrNotFound):
		if lang, ok := notify.MatchLang(u.Lang); ok {
			p.PrimaryLang = lang
		}
		return p, nil
	case err != nil:
		return p, err
	}
	if err := decodePrefs(raw, &p); err != nil {
		return notify.Default(), nil // unreadable preferences: fall back to the safe defaults
	}
	return p, nil
}

// Notify implements sls.Notifier.
func (q *Queue) Notify(ctx context.Context, tx sls.Tx, n sls.Notification) error {
	kind := notify.Kind(n.Kind)
	if !kind.Valid() {
		return fmt.Errorf("outbox: unknown notification kind %q", n.Kind)
	}
	u := n.User
	if u == nil || u.ID != n.UserID {
		var err error
		if u, err = tx.User(ctx, n.UserID); err != nil {
			return fmt.Errorf("outbox: user %s: %w", n.UserID, err)
		}
	}
	prefs, err := Preferences(ctx, tx, u)
	if err != nil {
		return err
	}
	channels := prefs.ChannelsFor(kind)
	if n.Channel != "" {
		channels = []notify.Channel{notify.Channel(n.Channel)}
	}
	lang := prefs.Lang(kind)
	now := q.Clock.Now()
	for _, ch := range channels {
		to := n.To
		if to == "" {
			to = destination(u, ch, kind)
		}
		if to == "" {
			q.log().Debug("outbox: no destination; channel skipped", "user_id", u.ID, "kind", kind, "channel", ch)
			continue
		}
		id := sls.NewID("msg")
		m, err := notify.NewMessage(id, ch, to, kind, lang, n.Data)
		if err != nil {
			return fmt.Errorf("outbox: %s by %s: %w", kind, ch, err)
		}
		sealed, err := q.Sealer.Seal(BodyPlace(id), []byte(m.Body))
		if err != nil {
			return err
		}
		err = tx.EnqueueMessage(ctx, &sls.OutboxMessage{ID: id, UserID: u.ID, Kind: string(kind), Channel: string(ch), To: to,
			Lang: m.Lang, Subject: m.Subject, SealedBody: sealed, CreatedAt: now, State: sls.OutboxPending, NextAttemptAt: now})
		if err != nil {
			return err
		}
	}
	return nil
}

// destination is where a notice of kind goes on channel by default. Notices
// by SMS go only to a verified number: an unverified one may belong to
// someone else.
func destination(u *sls.User, ch notify.Channel, kind notify.Kind) string {
	switch ch {
	case notify.ChannelEmail:
		return u.Email
	case notify.ChannelSMS, notify.ChannelVoice:
		if u.MobileVerifiedAt.IsZero() && !kind.Transactional() {
			return ""
		}
		return u.Mobile
	}
	return ""
}

func (q *Queue) log() *slog.Logger {
	if q.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return q.Log
}

// Worker delivers due messages.
type Worker struct {
	Store  sls.Store
	Sealer *seal.Sealer
	Clock  sls.Clock
	Sender notify.Sender
	Log    *slog.Logger
	// Owner names this node's leases (unique per process).
	Owner string
	// Lease is how long a claimed message is reserved for this worker; a
	// crashed worker's messages are retried after it.
	Lease time.Duration
	// Poll is how often (real time) the worker looks for due messages.
	Poll time.Duration
	// MaxAttempts ends retries: the message is marked failed.
	MaxAttempts int
	// Observe, when set, is told the outcome of each attempt and how long
	// the provider took to answer it (metrics).
	Observe func(channel, outcome string, took time.Duration)
}

const (
	defaultLease       = time.Minute
	defaultPoll        = 200 * time.Millisecond
	defaultMaxAttempts = 12
	batch              = 20
)

// Backoff is the wait before attempt n+1 after n failed attempts:
// 2s, 4s, 8s … capped at one hour.
func Backoff(attempts int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	poll := w.Poll
	if poll <= 0 {
		poll = defaultPoll
	}
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().Error("outbox: delivery round failed", "err", err)
		}
		if n == batch {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}

// RunOnce claims and delivers one batch; it returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	lease, maxAttempts := w.Lease, w.MaxAttempts
	if lease <= 0 {
		lease = defaultLease
	}
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}
	now := w.Clock.Now()
	var claimed []*sls.OutboxMessage
	err := w.Store.Update(ctx, func(tx sls.Tx) error {
		var err error
		claimed, err = tx.ClaimMessages(ctx, w.Owner, now, now.Add(lease), batch)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, m := range claimed {
		if ctx.Err() != nil {
			break // the lease runs out and another worker (or this one after a restart) delivers
		}
		w.deliver(ctx, m, maxAttempts)
	}
	return len(claimed), nil
}

func (w *Worker) deliver(ctx context.Context, m *sls.OutboxMessage, maxAttempts int) {
	start := time.Now()
	body, err := w.Sealer.Open(BodyPlace(m.ID), m.SealedBody)
	var sendErr error
	if err != nil {
		sendErr = notify.Permanent(fmt.Errorf("outbox: body does not open: %w", err))
	} else {
		sendErr = w.Sender.Send(ctx, notify.Message{ID: m.ID, Channel: notify.Channel(m.Channel), To: m.To, Subject: m.Subject,
			Body: string(body), Lang: m.Lang, Kind: notify.Kind(m.Kind)})
	}
	took := time.Since(start)
	now := w.Clock.Now()
	m.Attempts++
	outcome := "sent"
	switch {
	case sendErr == nil:
		m.State, m.SentAt, m.LastError = sls.OutboxSent, now, ""
	case notify.IsPermanent(sendErr) || m.Attempts >= maxAttempts:
		m.State, m.LastError, outcome = sls.OutboxFailed, truncate(sendErr.Error(), 500), "failed"
	default:
		wait := Backoff(m.Attempts)
		if ra, ok := notify.RetryAfter(sendErr); ok && ra > wait {
			wait = ra
		}
		m.NextAttemptAt, m.LastError, outcome = now.Add(wait), truncate(sendErr.Error(), 500), "retry"
	}
	if sendErr != nil {
		// The error text of an adapter never holds the body (adapters
		// report status and provider codes), so it may be logged.
		w.log().Warn("outbox: delivery failed", "id", m.ID, "channel", m.Channel, "kind", m.Kind, "attempts", m.Attempts,
			"outcome", outcome, "err", sendErr)
	}
	if w.Observe != nil {
		w.Observe(m.Channel, outcome, took)
	}
	err = w.Store.Update(ctx, func(tx sls.Tx) error { return tx.FinishMessage(ctx, w.Owner, m) })
	if err != nil && ctx.Err() == nil {
		w.log().Error("outbox: recording outcome failed; the message will be retried after its lease", "id", m.ID, "err", err)
	}
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Sink is the local channel: it stores delivered messages in the database
// where slsctl and tests read them. It is the default of every channel so
// that the embedded setup works without providers. Messages are stored in
// clear (codes included): it is for development, tests and demos, not for
// production.
type Sink struct {
	Store sls.Store
	Clock sls.Clock
}

// Send implements notify.Sender; delivering one id twice stores it once.
func (s *Sink) Send(ctx context.Context, m notify.Message) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.PutSinkMessage(ctx, &sls.SinkMessage{ID: m.ID, Channel: string(m.Channel), To: m.To, Kind: string(m.Kind),
			Lang: m.Lang, Subject: m.Subject, Body: m.Body, DeliveredAt: s.Clock.Now()})
		return err
	})
}

func decodePrefs(raw []byte, p *notify.Preferences) error {
	return jsonUnmarshalStrict(raw, p)
}
