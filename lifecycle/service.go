// Package lifecycle runs the life of physical security devices (SPEC §6)
// around the state machine of package policy: ordering a Digital Security
// Card+ (eligibility, shipping address, PIN, the USD 20 deposit, a summary
// to confirm, the expected delivery date) or a replacement for a lost,
// stolen or damaged one; shipping and delivery recorded by operators;
// activation by the client, who proves possession by answering a challenge
// with the new card, or by itself three weeks after delivery with notices
// before; returns and their receipt; the deposit ledger; Security Code
// Cards destroyed rather than returned; and account closure. It also owns
// the timed work of these features (auto-activation, expiry of temporary
// devices, purges), run by the shared scheduler.
//
// Every state change goes through one function that checks the transition
// with policy.Transition, appends it to the order's history and the audit
// trail, and applies its effect on the deposit, all in the transaction of
// the change and under the order's lock. The ledger refuses a second entry
// of a kind for an order in the database itself, so retries, restarts and
// racing nodes can never count a deposit twice.
package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/verify"
)

// Audit events of this package. Strings are stored; never rename one.
const (
	EventOrderPlaced       = "device_order.placed"
	EventOrderAdopted      = "device_order.adopted" // a device issued outside ordering entered the lifecycle
	EventOrderTransition   = "device_order.transition"
	EventOrderPostponed    = "device_order.auto_activation_postponed"
	EventNoticeSent        = "device_order.notice_sent"
	EventDepositHeld       = "deposit.held"
	EventDepositReleased   = "deposit.released"
	EventDepositForfeited  = "deposit.forfeited"
	EventFeeCharged        = "deposit.fee_charged"
	EventDeviceExpired     = "device.expired"
	EventDeviceDestroyed   = "device.destroyed"
	EventAccountClosed     = "account.closed"
	EventAddressChanged    = "shipping_address.changed"
	historyOrder           = "order"                     // history: the order was placed
	historyAdopt           = "adopt"                     // history: an existing device entered the lifecycle
	historyPostponed       = "auto_activation_postponed" // history: auto-activation moved later
	defaultChallengeTTL    = 3 * time.Minute
	maxAddressLen          = 500
	maxAddressLines        = 8
	maxCarrierOrTrackingLn = 64
)

// Conditions this package adds (Detail "condition").
const (
	CondTemporaryAccessRequired = "temporary_access_required" // replacing a lost or stolen card needs temporary access
	CondOrderUnderWay           = "order_under_way"           // another order is not finished
	CondAlreadyHeld             = "already_held"              // the client already has a DSC+
	CondSummaryChanged          = "summary_changed"           // the order differs from the summary confirmed
	CondDestroyNotReturn        = "destroy_not_return"        // printed cards are destroyed, not returned
	CondNothingToReturn         = "nothing_to_return"         // apps, SMS and passcodes are not objects
	CondInTransit               = "in_transit"                // an order is on its way: record delivery first
)

// Manager is what the lifecycle needs of package manage (*manage.Service
// is one): cards are issued and activated there, with its audit and hooks.
type Manager interface {
	IssueDSCPlus(ctx context.Context, actor, username, serial, pin string, activate bool) (*manage.IssuedDSCPlus, error)
	ActivateInTx(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error
}

// DefaultJobEvery is the period of the timed jobs when Config.JobEvery is
// zero.
const DefaultJobEvery = time.Minute

// Config holds the rules a deployment tunes (config section "lifecycle").
type Config struct {
	// ThresholdUSD is the equity (US cents) from which a DSC+ may be
	// ordered; ≤ 0 means policy.DefaultDSCPlusThreshold (USD 1,000,000).
	ThresholdUSD int64
	// DeliveryBusinessDays is the delivery promise; ≤ 0 means
	// policy.DefaultDeliveryBusinessDays.
	DeliveryBusinessDays int
	// Notices are how long before auto-activation the client is told; nil
	// means policy.DefaultActivationNotices (a week and a day).
	Notices []time.Duration
	// Fees are the replacement fees (US cents); zero charges nothing.
	Fees policy.Fees
	// Returns are the regional return addresses.
	Returns policy.ReturnAddresses
	// ActivationChallengeTTL bounds the activation challenge (default 3
	// minutes, as the DSC+ login challenge).
	ActivationChallengeTTL time.Duration
	// Lockout rules shared with the login.
	MaxFailures     int
	LockoutCooldown time.Duration
	// JobEvery is the period of the timed jobs in system time (default a
	// minute).
	JobEvery time.Duration
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.ThresholdUSD < 0 {
		return errors.New("lifecycle: the DSC+ equity threshold is negative")
	}
	if c.DeliveryBusinessDays < 0 || c.DeliveryBusinessDays > 60 {
		return errors.New("lifecycle: delivery business days must be between 1 and 60")
	}
	if _, err := policy.ActivationNoticeTimes(time.Time{}, c.Notices); err != nil {
		return fmt.Errorf("lifecycle: %w", err)
	}
	if err := c.Fees.Validate(); err != nil {
		return fmt.Errorf("lifecycle: %w", err)
	}
	if len(c.Returns.Addresses) > 0 || len(c.Returns.Countries) > 0 || c.Returns.Fallback != "" {
		if err := c.Returns.Validate(); err != nil {
			return fmt.Errorf("lifecycle: %w", err)
		}
	}
	return nil
}

// Service runs the lifecycle.
type Service struct {
	Store   sls.Store
	Sealer  *seal.Sealer
	Clock   sls.Clock
	Manage  Manager
	Protect *protect.Service // exchange rates and the business calendar
	// VerifyMetrics times the activation challenge's check (nil: not
	// timed).
	VerifyMetrics *verify.Metrics
	// Notifier queues notifications in the transaction of the event; nil
	// sends none.
	Notifier sls.Notifier
	Config   Config
	Rand     io.Reader // nil: crypto/rand
	Log      *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now()
}

func (s *Service) rand() io.Reader {
	if s.Rand == nil {
		return rand.Reader
	}
	return s.Rand
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) challengeTTL() time.Duration {
	if s.Config.ActivationChallengeTTL > 0 {
		return s.Config.ActivationChallengeTTL
	}
	return defaultChallengeTTL
}

// notices returns the notice leads, longest first (earliest notice first).
func (s *Service) notices() []time.Duration {
	n := s.Config.Notices
	if n == nil {
		n = policy.DefaultActivationNotices
	}
	out := slices.Clone(n)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// notify queues a notification when a notifier is wired.
func (s *Service) notify(ctx context.Context, tx sls.Tx, userID, kind string, data map[string]string) error {
	if s.Notifier == nil {
		return nil
	}
	if err := s.Notifier.Notify(ctx, tx, sls.Notification{UserID: userID, Kind: kind, Data: data}); err != nil {
		return fmt.Errorf("lifecycle: notify %s: %w", kind, err)
	}
	return nil
}

func addressPlace(orderID string) seal.Place {
	return seal.Place{Table: "device_orders", Column: "address_sealed", Row: orderID}
}

func pinPlace(orderID string) seal.Place {
	return seal.Place{Table: "device_orders", Column: "pin_sealed", Row: orderID}
}

func onFilePlace(userID string) seal.Place {
	return seal.Place{Table: "protection_settings", Column: "shipping_address", Row: userID}
}

// lockOrder locks an order's user, then the order: every path locks users
// before orders, so two changes never wait on each other in a circle.
func lockOrder(ctx context.Context, tx sls.Tx, id string) (*sls.DeviceOrder, *sls.User, error) {
	o, err := tx.DeviceOrder(ctx, id)
	if errors.Is(err, sls.ErrNotFound) {
		return nil, nil, sls.Errorf(sls.CodeNotFound, "No device order %q.", id)
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := tx.UserForUpdate(ctx, o.UserID)
	if err != nil {
		return nil, nil, err
	}
	if o, err = tx.DeviceOrderForUpdate(ctx, id); err != nil {
		return nil, nil, err
	}
	return o, u, nil
}

// step applies event to o (locked by the caller): the transition of
// policy, the order's history, the audit trail and the deposit, in tx.
func (s *Service) step(ctx context.Context, tx sls.Tx, o *sls.DeviceOrder, ev policy.Event, actor string, now time.Time, detail map[string]any) error {
	to, err := policy.Transition(policy.State(o.State), ev)
	if err != nil {
		return err
	}
	from := o.State
	o.State, o.UpdatedAt = string(to), now
	if err := tx.PutDeviceOrder(ctx, o); err != nil {
		return err
	}
	d := map[string]any{"order_id": o.ID, "event": string(ev), "from": from, "to": string(to), "kind": o.Kind, "serial": o.Serial}
	for k, v := range detail {
		d[k] = v
	}
	if err := s.history(ctx, tx, o, string(ev), from, string(to), actor, now, detail); err != nil {
		return err
	}
	if err := sls.Audit(ctx, tx, now, actor, EventOrderTransition, o.UserID, o.DeviceID, d); err != nil {
		return err
	}
	return s.settle(ctx, tx, o, ev, actor, now)
}

func (s *Service) history(ctx context.Context, tx sls.Tx, o *sls.DeviceOrder, event, from, to, actor string, now time.Time, detail map[string]any) error {
	var text string
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		text = string(b)
	}
	return tx.AppendDeviceOrderEvent(ctx, &sls.DeviceOrderEvent{OrderID: o.ID, At: now, Event: event, From: from, To: to, Actor: actor, Detail: text})
}

// settle applies an event's effect on the deposit (policy.DepositEffect).
// The ledger stores at most one settlement per order, so a repeated
// settlement stores nothing and tells nobody twice.
func (s *Service) settle(ctx context.Context, tx sls.Tx, o *sls.DeviceOrder, ev policy.Event, actor string, now time.Time) error {
	var kind, event, note string
	switch policy.DepositEffect(ev) {
	case policy.DepositRelease:
		kind, event, note = sls.DepositRelease, EventDepositReleased, sls.NoteDepositReleased
	case policy.DepositForfeit:
		kind, event, note = sls.DepositForfeit, EventDepositForfeited, sls.NoteDepositForfeited
	default:
		return nil
	}
	if o.DepositUSD <= 0 {
		return nil // a device that entered the lifecycle without a deposit
	}
	ok, err := tx.AddDepositEntry(ctx, &sls.DepositEntry{ID: sls.NewID("dep"), OrderID: o.ID, AccountID: o.AccountID, UserID: o.UserID,
		Kind: kind, USD: o.DepositUSD, At: now, Actor: actor, Reason: string(ev)})
	if err != nil || !ok {
		return err
	}
	if err := sls.Audit(ctx, tx, now, actor, event, o.UserID, o.DeviceID,
		map[string]any{"order_id": o.ID, "usd_cents": o.DepositUSD, "account_id": o.AccountID, "reason": string(ev)}); err != nil {
		return err
	}
	return s.notify(ctx, tx, o.UserID, note, map[string]string{"Device": string(o.Kind), "Amount": policy.FormatUSD(o.DepositUSD)})
}

// revokeCard turns off every device row of the order's physical device
// (several users may share one card) and ends every session those rows
// authenticated, recorded under why.
func (s *Service) revokeCard(ctx context.Context, tx sls.Tx, o *sls.DeviceOrder, actor, reason string, why sls.SessionEndReason, now time.Time) error {
	var rows []*sls.Device
	if o.Serial != "" {
		var err error
		if rows, err = tx.DevicesBySerial(ctx, o.Kind, o.Serial); err != nil {
			return err
		}
	}
	if o.DeviceID != "" && !slices.ContainsFunc(rows, func(d *sls.Device) bool { return d.ID == o.DeviceID }) {
		d, err := tx.Device(ctx, o.DeviceID)
		if err != nil {
			return err
		}
		rows = append(rows, d)
	}
	for _, d := range rows {
		if d.State == sls.StateRevoked || d.State == sls.StateExpired {
			continue
		}
		d.State = sls.StateRevoked
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceRevoked, d.UserID, d.ID,
			map[string]any{"kind": d.Kind, "serial": d.Serial, "reason": reason, "order_id": o.ID}); err != nil {
			return err
		}
		if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, why, actor, now); err != nil {
			return err
		}
	}
	return nil
}

// recordFor returns the locked lifecycle record of a physical device,
// creating one (origin "existing", no deposit) for a device issued outside
// ordering. The caller holds the device owner's lock.
func (s *Service) recordFor(ctx context.Context, tx sls.Tx, d *sls.Device, actor string, now time.Time) (*sls.DeviceOrder, error) {
	if !d.Kind.Physical() {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A %s is not a physical device with a lifecycle.", d.Kind.Title())
	}
	ids := []string{d.ID}
	if d.Serial != "" {
		sibs, err := tx.DevicesBySerial(ctx, d.Kind, d.Serial)
		if err != nil {
			return nil, err
		}
		for _, x := range sibs {
			if x.ID != d.ID {
				ids = append(ids, x.ID)
			}
		}
	}
	for _, id := range ids {
		list, err := tx.DeviceOrders(ctx, sls.DeviceOrderFilter{DeviceID: id})
		if err != nil {
			return nil, err
		}
		if len(list) > 0 {
			o := list[len(list)-1]
			if o.UserID != d.UserID {
				// A shared card's record belongs to its first holder: lock
				// that user too (after ours, in a fixed order per pair).
				if _, err := tx.UserForUpdate(ctx, o.UserID); err != nil {
					return nil, err
				}
			}
			return tx.DeviceOrderForUpdate(ctx, o.ID)
		}
	}
	u, err := tx.User(ctx, d.UserID)
	if err != nil {
		return nil, err
	}
	state := policy.StateActive
	if d.State == sls.StatePending {
		state = policy.StateDelivered
	}
	o := &sls.DeviceOrder{ID: sls.NewID("ord"), UserID: d.UserID, AccountID: u.AccountID, Kind: d.Kind, Origin: sls.OriginExisting,
		State: string(state), DeviceID: d.ID, Serial: d.Serial, OrderedAt: d.CreatedAt, ActivatedAt: d.ActivatedAt, UpdatedAt: now}
	if err := tx.CreateDeviceOrder(ctx, o); err != nil {
		return nil, err
	}
	if err := s.history(ctx, tx, o, historyAdopt, "", o.State, actor, now, map[string]any{"device_id": d.ID}); err != nil {
		return nil, err
	}
	if err := sls.Audit(ctx, tx, now, actor, EventOrderAdopted, o.UserID, d.ID,
		map[string]any{"order_id": o.ID, "kind": o.Kind, "serial": o.Serial, "state": o.State}); err != nil {
		return nil, err
	}
	return tx.DeviceOrderForUpdate(ctx, o.ID)
}

// userDevice finds one of u's devices.
func userDevice(ctx context.Context, tx sls.Tx, u *sls.User, deviceID string) (*sls.Device, error) {
	d, err := tx.Device(ctx, deviceID)
	if errors.Is(err, sls.ErrNotFound) || (err == nil && d.UserID != u.ID) {
		return nil, sls.Errorf(sls.CodeNotFound, "This device is not one of your security devices.")
	}
	return d, err
}

// cleanText checks a short operator or client text field (carrier,
// tracking number): printable, one line, bounded.
func cleanText(field, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return "", sls.Errorf(sls.CodeInvalidArgument, "The %s is required.", field).WithDetail("field", field)
		}
		return "", nil
	}
	if len(v) > maxCarrierOrTrackingLn {
		return "", sls.Errorf(sls.CodeInvalidArgument, "The %s is too long (%d characters at most).", field, maxCarrierOrTrackingLn).WithDetail("field", field)
	}
	for _, r := range v {
		if !printable(r) {
			return "", sls.Errorf(sls.CodeInvalidArgument, "The %s must be one line of printable text.", field).WithDetail("field", field)
		}
	}
	return v, nil
}

// printable refuses control characters, Unicode line breaks and bytes that
// are not UTF-8: these texts go into notices and onto shipping labels.
func printable(r rune) bool {
	return !unicode.IsControl(r) && r != '\u2028' && r != '\u2029' && r != utf8.RuneError
}

// cleanAddress checks a postal address: a few lines of printable text.
// Lines are trimmed and blank ones dropped before the bounds are checked,
// so what is stored is exactly what was checked.
func cleanAddress(v string) (string, error) {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	out := strings.Join(lines, "\n")
	if len(out) < 10 || len(out) > maxAddressLen || len(lines) > maxAddressLines {
		return "", sls.Errorf(sls.CodeInvalidArgument, "The shipping address must be 10 to %d characters on at most %d lines.", maxAddressLen, maxAddressLines).
			WithDetail("field", "shipping_address")
	}
	for _, r := range out {
		if r != '\n' && !printable(r) {
			return "", sls.Errorf(sls.CodeInvalidArgument, "The shipping address must be printable text.").WithDetail("field", "shipping_address")
		}
	}
	return out, nil
}
