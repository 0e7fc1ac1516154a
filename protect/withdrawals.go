package protect

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/takeover"
)

// MoneyRequest is a withdrawal or ACH/EFT funding to check or record.
type MoneyRequest struct {
	// RequestID is the caller's idempotency key (1–64 printable ASCII
	// characters), required to record: the same key again returns the
	// first booking instead of making a second.
	RequestID string `json:"request_id,omitempty"`
	Currency  string `json:"currency" required:"true"`
	// Amount is a plain decimal in the currency ("1500.25").
	Amount string `json:"amount" required:"true"`
	// ConfirmationID names a fresh second-factor confirmation of this
	// withdrawal (see StartStepUp); its device then sets the limit.
	ConfirmationID string `json:"confirmation_id,omitempty"`
	// Payee is the account paid; a confirmation bound to a payee is
	// valid for that payee only.
	Payee string `json:"payee,omitempty"`
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// Window is one rolling window of a limit. Limit and Remaining are null
// when the device sets no limit.
type Window struct {
	Limit     *int64    `json:"limit_cents"`
	Used      int64     `json:"used_cents"`
	Remaining *int64    `json:"remaining_cents"`
	Start     time.Time `json:"start"`
	Unlimited bool      `json:"unlimited"`
}

func window(limit, used, remaining int64, start time.Time) Window {
	w := Window{Used: used, Start: start, Unlimited: limit == policy.Unlimited}
	if !w.Unlimited {
		w.Limit, w.Remaining = &limit, &remaining
	}
	return w
}

// LimitInfo says which limit applied and why.
type LimitInfo struct {
	// DeviceKind is the device that set the limit ("" without one).
	DeviceKind  sls.DeviceKind `json:"device_kind,omitempty"`
	DeviceTitle string         `json:"device_title,omitempty"`
	// Basis is policy's: not_in_sls, device, or lowest.
	Basis string `json:"basis"`
	// Source is "session" (the device that authenticated the session) or
	// "confirmation" (a fresh confirmation of this withdrawal).
	Source string `json:"source"`
	InSLS  bool   `json:"in_sls"`
	// CoolDown is set while a security change holds withdrawals to the
	// cool-down tier: which change, and until when.
	CoolDown *CoolDownInfo `json:"cool_down,omitempty"`
}

// CoolDownInfo says why and until when the cool-down tier applies.
type CoolDownInfo struct {
	Change string    `json:"change"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
}

// WithdrawalAnswer is the answer to "may this session's user withdraw X
// now" and to "record this withdrawal".
type WithdrawalAnswer struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	// Condition is set on refusals that are policy conditions.
	Limit     LimitInfo `json:"limit"`
	Currency  string    `json:"currency,omitempty"`
	Amount    string    `json:"amount,omitempty"`
	AmountUSD int64     `json:"amount_usd_cents,omitempty"`
	Rate      string    `json:"rate,omitempty"` // USD per unit, when converted
	// Day and FiveBusinessDays are the windows before this withdrawal.
	Day              Window `json:"day"`
	FiveBusinessDays Window `json:"five_business_days"`
	// NextRoomAt is when enough room frees up for this amount (refusals).
	NextRoomAt time.Time          `json:"next_room_at,omitzero"`
	Withdrawal *sls.MoneyMovement `json:"withdrawal,omitempty"`
	// Replayed: the request id was booked before; nothing new was booked.
	Replayed bool `json:"replayed,omitempty"`
}

// limitSource resolves which device sets the limit: a confirmation named
// in the request, or the session's device. With lock, the confirmation's
// row is locked so that the caller can mark it used.
func (s *Service) limitSource(ctx context.Context, tx sls.Tx, sess *sls.Session, u *sls.User, req MoneyRequest, m policy.Money,
	now time.Time, lock bool) (LimitInfo, *sls.StepUp, error) {
	info := s.sessionLimit(sess, u, now)
	if req.ConfirmationID == "" {
		return info, nil, nil
	}
	if len(req.ConfirmationID) > 128 {
		return info, nil, sls.Errorf(sls.CodeNotFound, "Unknown withdrawal confirmation.")
	}
	var su *sls.StepUp
	var err error
	if lock {
		su, err = tx.StepUpForUpdate(ctx, sls.TokenHash(req.ConfirmationID))
	} else {
		su, err = tx.StepUp(ctx, sls.TokenHash(req.ConfirmationID))
	}
	if errors.Is(err, sls.ErrNotFound) || (err == nil && (su.UserID != u.ID || su.Bound.SessionID != sess.ID)) {
		return info, nil, sls.Errorf(sls.CodeNotFound, "Unknown withdrawal confirmation.")
	}
	if err != nil {
		return info, nil, err
	}
	switch {
	case su.VerifiedAt.IsZero():
		return info, nil, sls.Errorf(sls.CodeForbidden, "This withdrawal confirmation has not been answered yet.")
	case !su.UsedAt.IsZero():
		return info, nil, sls.Errorf(sls.CodeConflict, "This withdrawal confirmation was already used.")
	case !now.Before(su.VerifiedAt.Add(s.cfg().StepUpValidity)):
		return info, nil, sls.Errorf(sls.CodeForbidden, "This withdrawal confirmation has expired; confirm the withdrawal again.")
	case su.Bound.Currency != m.Currency || su.Bound.AmountMinor != m.Minor:
		return info, nil, sls.Errorf(sls.CodeInvalidArgument, "The confirmation was given for %s %s, not for this withdrawal.",
			FormatAmount(su.Bound.Currency, su.Bound.AmountMinor), su.Bound.Currency)
	}
	// Dynamic linking (PSD2 RTS Art. 5(1)(b)): the payee the device
	// confirmed is the one paid, compared in constant time.
	payee, err := NormalizePayee(req.Payee)
	if err != nil {
		return info, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(payee), []byte(su.Bound.Payee)) != 1 {
		return info, nil, sls.Errorf(sls.CodeInvalidArgument, "The confirmation was given for another payee (%s), not for this withdrawal.",
			orNone(MaskPayee(su.Bound.Payee)))
	}
	info.DeviceKind, info.Source = su.DeviceKind, "confirmation"
	return info, su, nil
}

func orNone(s string) string {
	if s == "" {
		return "none named"
	}
	return s
}

// sessionLimit is the limit a session sets without a confirmation. Only
// a device proven in the session within the confirmation validity (at
// login or by a step-up) lends its limit; an older session withdraws as
// if by password alone (OWASP ASVS 4.0.3 V3.7.1: re-authenticate before
// sensitive transactions), and a confirmation lifts it to the device's.
func (s *Service) sessionLimit(sess *sls.Session, u *sls.User, now time.Time) LimitInfo {
	info := LimitInfo{Source: "session", InSLS: inSLS(u)}
	if sess.RecentlyProven(now, s.cfg().StepUpValidity) {
		info.DeviceKind = sess.ProvenKind
	} else if sess.DeviceKind != "" {
		info.Source = "session_not_recent"
	}
	return info
}

// evaluate decides a withdrawal inside tx.
func (s *Service) evaluate(ctx context.Context, tx sls.Tx, u *sls.User, info LimitInfo, m policy.Money, usd int64, now time.Time) (*WithdrawalAnswer, policy.Decision, error) {
	limit := s.cfg().DeviceLimits.For(info.DeviceKind, info.InSLS)
	cd, err := s.coolDown(ctx, tx, u, now)
	if err != nil {
		return nil, policy.Decision{}, err
	}
	if cd != nil {
		tier := *s.cfg().CoolDown
		if tier.Day < limit.Day || tier.FiveDay < limit.FiveDay {
			limit.Day, limit.FiveDay, limit.Basis = min(limit.Day, tier.Day), min(limit.FiveDay, tier.FiveDay), tier.Basis
		}
		info.CoolDown = &CoolDownInfo{Change: cd.Reason, Since: cd.StartedAt, Until: cd.Until}
	}
	info.Basis = limit.Basis
	if !info.InSLS {
		info.DeviceKind = ""
	}
	if info.DeviceKind != "" {
		info.DeviceTitle = info.DeviceKind.Title()
	}
	cal, err := s.Calendar(ctx, tx)
	if err != nil {
		return nil, policy.Decision{}, err
	}
	dayStart := now.Add(-24 * time.Hour)
	since := cal.WindowStart(now, 5)
	if dayStart.Before(since) {
		since = dayStart
	}
	moves, err := tx.MoneyMovements(ctx, u.AccountID, sls.MoveWithdrawal, since, false)
	if err != nil {
		return nil, policy.Decision{}, err
	}
	hist := make([]policy.Withdrawal, len(moves))
	for i, mv := range moves {
		hist[i] = policy.Withdrawal{At: mv.At, USD: mv.USD}
	}
	d := policy.Evaluate(limit, hist, usd, now, cal)
	a := &WithdrawalAnswer{Allowed: d.Allowed, Reason: string(d.Reason), Limit: info, AmountUSD: usd,
		Day:              window(limit.Day, d.UsedDay, d.RemainingDay, dayStart),
		FiveBusinessDays: window(limit.FiveDay, d.UsedFiveDay, d.RemainingFiveDay, d.FiveDayStart),
		NextRoomAt:       d.NextRoomAt}
	if m.Currency != "" {
		a.Currency, a.Amount = m.Currency, FormatAmount(m.Currency, m.Minor)
	}
	if err := d.Err(); err != nil {
		a.Message = err.(*sls.Error).Message + coolDownNote(info.CoolDown)
	}
	return a, d, nil
}

// coolDown is the user's cool-down when one holds and the deployment
// applies one.
func (s *Service) coolDown(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) (*sls.CoolDown, error) {
	if s.cfg().CoolDown == nil {
		return nil, nil
	}
	return takeover.Active(ctx, tx, u.ID, now)
}

// coolDownNote explains the cool-down in a refusal.
func coolDownNote(cd *CoolDownInfo) string {
	if cd == nil {
		return ""
	}
	return fmt.Sprintf(" A security change on %s (%s) holds withdrawals to a lower limit until %s; Client Services can lift it once they have checked the change with you.",
		cd.Since.UTC().Format("2006-01-02 15:04 MST"), strings.ReplaceAll(cd.Change, "_", " "), cd.Until.UTC().Format("2006-01-02 15:04 MST"))
}

// refusal turns a refused decision into the error of "record".
func refusal(a *WithdrawalAnswer, d policy.Decision) error {
	e, _ := d.Err().(*sls.Error)
	if e == nil {
		return nil
	}
	e = e.WithDetail("device_kind", string(a.Limit.DeviceKind)).WithDetail("basis", a.Limit.Basis).WithDetail("source", a.Limit.Source)
	if cd := a.Limit.CoolDown; cd != nil {
		e = e.WithDetail("cool_down_until", cd.Until.Format(time.RFC3339)).WithDetail("cool_down_change", cd.Change)
		e.Message = a.Message // the policy's message and the cool-down's note
	}
	return e
}

// CheckWithdrawal answers whether the session's user may withdraw the
// amount now, and under which limit, without booking anything.
func (s *Service) CheckWithdrawal(ctx context.Context, sess *sls.Session, u *sls.User, req MoneyRequest) (*WithdrawalAnswer, error) {
	m, err := ParseAmount(req.Currency, req.Amount)
	if err != nil {
		return nil, err
	}
	if _, err := NormalizePayee(req.Payee); err != nil {
		return nil, err
	}
	now := s.now()
	var out *WithdrawalAnswer
	err = s.Store.View(ctx, func(tx sls.Tx) error {
		usd, rate, err := s.ToUSD(ctx, tx, m, true)
		if err != nil {
			return err
		}
		info, _, err := s.limitSource(ctx, tx, sess, u, req, m, now, false)
		if err != nil {
			return err
		}
		if out, _, err = s.evaluate(ctx, tx, u, info, m, usd, now); err != nil {
			return err
		}
		if m.Currency != "USD" {
			out.Rate = rate.String()
		}
		return nil
	})
	return out, err
}

// LimitsAnswer is the session's limit and its windows as they stand.
type LimitsAnswer struct {
	Limit            LimitInfo `json:"limit"`
	Day              Window    `json:"day"`
	FiveBusinessDays Window    `json:"five_business_days"`
}

// Limits reports the windows of the session's limit as they stand, without
// an amount.
func (s *Service) Limits(ctx context.Context, sess *sls.Session, u *sls.User) (*LimitsAnswer, error) {
	now := s.now()
	var out *LimitsAnswer
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		info := s.sessionLimit(sess, u, now)
		a, _, err := s.evaluate(ctx, tx, u, info, policy.Money{}, 1, now)
		if err != nil {
			return err
		}
		out = &LimitsAnswer{Limit: a.Limit, Day: a.Day, FiveBusinessDays: a.FiveBusinessDays}
		return nil
	})
	return out, err
}

// RecordWithdrawal checks and books a withdrawal in one transaction that
// holds the account's lock: two withdrawals racing on two nodes are
// decided one after the other, so together they never pass a limit. A
// refusal is audited and returned as limit_exceeded (with the answer).
// Retrying with the same request id returns the first booking.
func (s *Service) RecordWithdrawal(ctx context.Context, sess *sls.Session, u *sls.User, req MoneyRequest) (*WithdrawalAnswer, error) {
	if !validRequestID(req.RequestID) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "request_id is required: 1 to 64 printable characters that identify this withdrawal.").
			WithDetail("field", "request_id")
	}
	m, err := ParseAmount(req.Currency, req.Amount)
	if err != nil {
		return nil, err
	}
	payee, err := NormalizePayee(req.Payee)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *WithdrawalAnswer
	var refused error
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		out, refused = nil, nil
		if _, err := tx.AccountForUpdate(ctx, u.AccountID); err != nil {
			return err
		}
		prev, err := tx.MoneyMovementByRequest(ctx, u.AccountID, sls.MoveWithdrawal, req.RequestID)
		if err == nil {
			return s.replay(ctx, tx, sess, u, prev, m, now, &out)
		} else if !errors.Is(err, sls.ErrNotFound) {
			return err
		}
		usd, rate, err := s.ToUSD(ctx, tx, m, true)
		if err != nil {
			return err
		}
		info, su, err := s.limitSource(ctx, tx, sess, u, req, m, now, true)
		if err != nil {
			return err
		}
		a, d, err := s.evaluate(ctx, tx, u, info, m, usd, now)
		if err != nil {
			return err
		}
		if m.Currency != "USD" {
			a.Rate = rate.String()
		}
		out = a
		detail := map[string]any{"request_id": req.RequestID, "currency": m.Currency, "amount_minor": m.Minor, "usd_cents": usd,
			"device_kind": a.Limit.DeviceKind, "basis": a.Limit.Basis, "source": a.Limit.Source, "session_id": sess.ID, "payee": MaskPayee(payee)}
		if !d.Allowed {
			refused = refusal(a, d)
			detail["reason"] = string(d.Reason)
			return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventWithdrawalRefused, u.ID, "", detail)
		}
		mv := &sls.MoneyMovement{ID: sls.NewID("wdr"), Kind: sls.MoveWithdrawal, AccountID: u.AccountID, UserID: u.ID, RequestID: req.RequestID,
			Currency: m.Currency, AmountMinor: m.Minor, USD: usd, DeviceKind: a.Limit.DeviceKind, SessionID: sess.ID, At: now}
		ok, err := tx.AddMoneyMovement(ctx, mv)
		if err != nil {
			return err
		}
		if !ok { // cannot happen under the account lock; refuse rather than double-book
			return sls.Errorf(sls.CodeConflict, "This request id is already being booked.")
		}
		if su != nil {
			// A confirmation authorises one withdrawal; a refused one
			// leaves it for a retry within its validity.
			su.UsedAt = now
			if err := tx.PutStepUp(ctx, su); err != nil {
				return err
			}
		}
		a.Withdrawal = mv
		detail["withdrawal_id"] = mv.ID
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventWithdrawalRecorded, u.ID, "", detail)
	})
	if err != nil {
		return nil, err
	}
	return out, refused
}

// replay answers a request id that was booked before: the same booking,
// or a conflict when the retry differs from it.
func (s *Service) replay(ctx context.Context, tx sls.Tx, sess *sls.Session, u *sls.User, prev *sls.MoneyMovement, m policy.Money,
	now time.Time, out **WithdrawalAnswer) error {
	if prev.Currency != m.Currency || prev.AmountMinor != m.Minor {
		return sls.Errorf(sls.CodeConflict, "request_id %q was used for a different withdrawal (%s %s).", prev.RequestID,
			FormatAmount(prev.Currency, prev.AmountMinor), prev.Currency)
	}
	info := LimitInfo{DeviceKind: prev.DeviceKind, Source: "session", InSLS: inSLS(u)}
	a, _, err := s.evaluate(ctx, tx, u, info, m, prev.USD, now)
	if err != nil {
		return err
	}
	a.Allowed, a.Reason, a.Message, a.NextRoomAt, a.Withdrawal, a.Replayed = true, string(policy.ReasonOK), "", time.Time{}, prev, true
	*out = a
	return nil
}

// ReverseWithdrawal marks a booked movement reversed (the bank did not
// carry it out): it stops counting against the limits. Operators only.
func (s *Service) ReverseWithdrawal(ctx context.Context, actor, id, reason string) (*sls.MoneyMovement, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Give the reason for the reversal (up to 500 characters).")
	}
	now := s.now()
	var out *sls.MoneyMovement
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		m, err := tx.MoneyMovement(ctx, id)
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No booking %q.", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.AccountForUpdate(ctx, m.AccountID); err != nil {
			return err
		}
		if err := tx.ReverseMoneyMovement(ctx, id, now, actor, reason); err != nil {
			if errors.Is(err, sls.ErrConflict) {
				return sls.Errorf(sls.CodeConflict, "Booking %s is already reversed.", id)
			}
			return err
		}
		if out, err = tx.MoneyMovement(ctx, id); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventWithdrawalReversed, m.UserID, "",
			map[string]any{"id": id, "kind": m.Kind, "usd_cents": m.USD, "reason": reason})
	})
	return out, err
}

// Movements lists an account's bookings of kind since a time (operators).
func (s *Service) Movements(ctx context.Context, accountID, kind string, since time.Time) ([]*sls.MoneyMovement, error) {
	if kind != sls.MoveWithdrawal && kind != sls.MoveACHFunding {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "kind must be %s or %s.", sls.MoveWithdrawal, sls.MoveACHFunding)
	}
	var out []*sls.MoneyMovement
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		if _, err := tx.Account(ctx, accountID); errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No account %q.", accountID)
		} else if err != nil {
			return err
		}
		var err error
		out, err = tx.MoneyMovements(ctx, accountID, kind, since, true)
		return err
	})
	if out == nil {
		out = []*sls.MoneyMovement{}
	}
	return out, err
}
