package ibkey

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	proto "github.com/secure-login-system/sls/ibkey"
	"github.com/secure-login-system/sls/policy"
)

// instanceUsers returns the devices of an instance that may answer, and
// their users' ids.
func instanceUsers(ctx context.Context, tx sls.Tx, in *sls.IBKeyInstance, now time.Time) ([]*sls.Device, []string, error) {
	devs, err := tx.IBKeyDevices(ctx, in.ID)
	if err != nil {
		return nil, nil, err
	}
	var active []*sls.Device
	var ids []string
	for _, d := range devs {
		if d.Usable(now) {
			active = append(active, d)
			ids = append(ids, d.UserID)
		}
	}
	return active, ids, nil
}

// Pending lists the pending pushes for the users an instance holds, as
// the app sees them (without the number to match).
func (s *Service) Pending(ctx context.Context, in *sls.IBKeyInstance) ([]proto.Push, []string, error) {
	now := s.now()
	var out []proto.Push
	var users []string
	// Without a transaction (on PostgreSQL two round trips fewer on the
	// way to every push): the statements need no common snapshot. A push
	// listed for a device revoked meanwhile is refused when answered, and
	// one of a user deleted meanwhile is left out.
	err := s.d.Store.Read(ctx, func(tx sls.Tx) error {
		out = nil
		devs, ids, err := instanceUsers(ctx, tx, in, now)
		if err != nil {
			return err
		}
		users = ids
		byUser := map[string]*sls.Device{}
		for _, d := range devs {
			byUser[d.UserID] = d
		}
		pend, err := tx.IBKeyPendingPushes(ctx, ids)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, p := range pend {
			if !now.Before(p.ExpiresAt) {
				continue
			}
			if _, ok := names[p.UserID]; !ok {
				u, err := tx.User(ctx, p.UserID)
				if errors.Is(err, sls.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				names[p.UserID] = u.Username
			}
			out = append(out, proto.Push{ID: p.ID, Tx: proto.TxBinding(p.LoginHash, p.ID), UserID: p.UserID, Username: names[p.UserID],
				DeviceID: byUser[p.UserID].ID, Platform: string(p.Platform), ClientIP: p.ClientIP, UserAgent: p.UserAgent,
				CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt, Transaction: pushTransaction(p)})
		}
		return nil
	})
	return out, users, err
}

// Answer takes the app's approval or denial of a push. The signature (by
// the instance's key) and the PIN proof (by the user's offline key) are
// checked first: a failure is a wrong PIN, counted toward the user's
// lockout, and after MaxBadUnlocks the push is rejected. An approval must
// carry the number shown on the login screen; a wrong number ends the push
// and counts as a failed answer. A denial ends the login, and is audited
// and notified.
func (s *Service) Answer(ctx context.Context, in *sls.IBKeyInstance, a proto.Approval) (*proto.AnswerResult, error) {
	if err := a.Check(); err != nil {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "%s", strings.TrimPrefix(err.Error(), "ibkey: "))
	}
	if a.Unlock == proto.UnlockBiometric && in.Platform != proto.PlatformIOS {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Only an iOS instance unlocks with biometrics.")
	}
	now := s.now()
	var res *proto.AnswerResult
	var outcome error
	var changed *sls.IBKeyPush
	err := s.d.Store.Update(ctx, func(tx sls.Tx) error {
		res, outcome, changed = nil, nil, nil
		// Lock order as in a login answer: user, login, push (see
		// sqlstore's LoginWithUserForUpdate), so that the app's answer
		// and the page's never wait for each other.
		peek, err := tx.IBKeyPush(ctx, a.PushID)
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "Unknown request.")
		}
		if err != nil {
			return err
		}
		u, err := tx.UserForUpdate(ctx, peek.UserID)
		if err != nil {
			return err
		}
		// A push that belongs to no login belongs to a step-up or a
		// withdrawal confirmation (a challenge kept elsewhere).
		purpose := sls.PurposeLogin
		lg, err := tx.LoginForUpdate(ctx, peek.LoginHash)
		if errors.Is(err, sls.ErrNotFound) {
			purpose, lg = sls.PurposeStepUp, nil
		} else if err != nil {
			return err
		}
		p, err := tx.IBKeyPushForUpdate(ctx, a.PushID)
		if err != nil {
			return err
		}
		// The push's new state on the login page (the login is read and
		// locked above) or on its step-up.
		show := func(fail bool) error {
			changed = p
			if lg != nil {
				return showOnLogin(ctx, tx, lg, p, fail)
			}
			return setStepUpPush(ctx, tx, p, fail)
		}
		// A push that confirms a withdrawal is approved only with a
		// signature over the transaction as bound (dynamic linking).
		if subtle.ConstantTimeCompare([]byte(a.Tx), []byte(proto.TransactionTx(proto.TxBinding(p.LoginHash, p.ID), pushTransaction(p)))) != 1 {
			return sls.Errorf(sls.CodeInvalidArgument, "The answer names another login or another transaction.")
		}
		d, err := tx.Device(ctx, a.DeviceID)
		if err != nil || d.Kind != sls.KindIBKey || d.Serial != in.ID || d.UserID != p.UserID {
			return sls.Errorf(sls.CodeForbidden, "This app does not hold that user.")
		}
		if !d.Usable(now) {
			return sls.ErrDeviceUnavailable
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		if p.State == sls.PushPending && !now.Before(p.ExpiresAt) {
			if err := s.closePush(ctx, tx, p, sls.PushExpired, nil, now); err != nil {
				return err
			}
			if err := show(false); err != nil {
				return err
			}
		}
		if p.State != sls.PushPending {
			outcome = sls.Errorf(sls.CodeConflict, "This request is no longer waiting for an answer (%s).", p.State).WithDetail("state", p.State)
			return nil
		}
		key, err := s.offlineKey(d)
		if err != nil {
			return err
		}
		if verr := a.Verify(ed25519.PublicKey(in.SignPub), key); verr != nil {
			p.BadUnlocks++
			p.UpdatedAt = now
			if err := tx.PutIBKeyPush(ctx, p); err != nil {
				return err
			}
			changed = p
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventBadUnlock, u.ID, d.ID,
				map[string]any{"push_id": p.ID, "bad_unlocks": p.BadUnlocks}); err != nil {
				return err
			}
			if outcome, err = s.countFailure(ctx, tx, u, d.ID, purpose, "push_unlock", now); err != nil {
				return err
			}
			if p.BadUnlocks >= s.cfg.MaxBadUnlocks || errors.Is(outcome, sls.ErrLocked) {
				if err := s.closePush(ctx, tx, p, sls.PushRejected, nil, now); err != nil {
					return err
				}
				if err := show(false); err != nil {
					return err
				}
			}
			if e, ok := outcome.(*sls.Error); ok {
				outcome = e.WithDetail("reason", "bad_unlock")
			}
			return nil
		}
		detail := map[string]any{"push_id": p.ID, "instance_id": in.ID, "unlock": a.Unlock, "platform": p.Platform, "ip": p.ClientIP}
		switch {
		case a.Decision == proto.DecisionDeny:
			if err := s.closePush(ctx, tx, p, sls.PushDenied, nil, now); err != nil {
				return err
			}
			if err := show(true); err != nil {
				return err
			}
			if a.NotMe {
				detail["not_me"] = true
			}
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventPushDenied, u.ID, d.ID, detail); err != nil {
				return err
			}
			if a.NotMe && s.d.Report != nil {
				// The user says someone else started this login: lock,
				// end every session, alert (the report's own notice
				// tells the user).
				if err := s.d.Report(ctx, tx, u, p.ClientIP, now); err != nil {
					return err
				}
			} else if err := s.notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NotePushDenied, Data: map[string]string{
				"Platform": string(p.Platform), "Address": sls.Network(p.ClientIP), "Time": p.CreatedAt.UTC().Format("2006-01-02 15:04 MST")}}); err != nil {
				return err
			}
		case subtle.ConstantTimeCompare([]byte(a.Number), []byte(p.Number)) != 1:
			if err := s.closePush(ctx, tx, p, sls.PushRejected, nil, now); err != nil {
				return err
			}
			if err := show(false); err != nil {
				return err
			}
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventPushWrongNumber, u.ID, d.ID, detail); err != nil {
				return err
			}
			if outcome, err = s.countFailure(ctx, tx, u, d.ID, purpose, "push_number", now); err != nil {
				return err
			}
			if e, ok := outcome.(*sls.Error); ok {
				outcome = e.WithDetail("reason", "wrong_number")
			}
		default:
			p.Biometric = a.Unlock == proto.UnlockBiometric
			p.AnsweredBy = d.ID
			if err := s.closePush(ctx, tx, p, sls.PushApproved, nil, now); err != nil {
				return err
			}
			if err := show(false); err != nil {
				return err
			}
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventPushApproved, u.ID, d.ID, detail); err != nil {
				return err
			}
		}
		res = &proto.AnswerResult{PushID: p.ID, State: p.State}
		return nil
	})
	if changed != nil && err == nil {
		s.hub.announce(changed)
	}
	if err != nil {
		return nil, err
	}
	if outcome != nil {
		return nil, outcome
	}
	return res, nil
}

// ExpirePushes ends pushes left unanswered past their lifetime (a
// scheduler job, one node per run): the login page shows it, the app drops
// it, and it counts toward the anti-fatigue streak.
func (s *Service) ExpirePushes(ctx context.Context, now time.Time) error {
	var due []*sls.IBKeyPush
	if err := s.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		due, err = tx.IBKeyPushesExpiring(ctx, now, 200)
		return err
	}); err != nil {
		return err
	}
	for _, peek := range due {
		err := s.d.Store.Update(ctx, func(tx sls.Tx) error {
			// The order of a login answer: user, login, push.
			if _, err := tx.UserForUpdate(ctx, peek.UserID); err != nil {
				return err
			}
			if _, err := tx.LoginForUpdate(ctx, peek.LoginHash); err != nil && !errors.Is(err, sls.ErrNotFound) {
				return err
			}
			p, err := tx.IBKeyPushForUpdate(ctx, peek.ID)
			if err != nil || p.State != sls.PushPending || now.Before(p.ExpiresAt) {
				return err
			}
			if err := s.closePush(ctx, tx, p, sls.PushExpired, nil, now); err != nil {
				return err
			}
			return setLoginPush(ctx, tx, p, false)
		})
		if err != nil {
			return err
		}
		s.hub.Poke(peek.UserID)
	}
	return nil
}

// Purge drops tickets and pushes a day past their expiry; the audit trail
// keeps what matters.
func (s *Service) Purge(ctx context.Context, now time.Time) error {
	return s.d.Store.Update(ctx, func(tx sls.Tx) error {
		if _, err := tx.DeleteIBKeyTicketsBefore(ctx, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		_, err := tx.DeleteIBKeyPushesBefore(ctx, now.Add(-24*time.Hour))
		return err
	})
}

// reauthNonceTTL bounds how long a re-authentication nonce may be used.
const reauthNonceTTL = 2 * time.Minute

// ReauthNonce returns a nonce for a re-authentication: the server's time
// and a keyed hash binding it to the instance, so the server keeps no
// state for it.
func (s *Service) ReauthNonce(in *sls.IBKeyInstance) string {
	t := strconv.FormatInt(s.now().Unix(), 10)
	return t + "." + hex.EncodeToString(s.d.Sealer.KeyedHash("ibkey-reauth-nonce", []byte(in.ID+"|"+t))[:16])
}

func (s *Service) checkNonce(in *sls.IBKeyInstance, nonce string) bool {
	t, mac, ok := strings.Cut(nonce, ".")
	if !ok || len(t) > 20 {
		return false
	}
	want := hex.EncodeToString(s.d.Sealer.KeyedHash("ibkey-reauth-nonce", []byte(in.ID+"|"+t))[:16])
	if !hmac.Equal([]byte(want), []byte(mac)) {
		return false
	}
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return false
	}
	age := s.now().Sub(time.Unix(sec, 0))
	return age >= -time.Minute && age <= reauthNonceTTL
}

// Reauth re-authenticates a user from the app (SPEC §2.5): with a
// biometric unlock on iOS, the user's live trading sessions that an IB Key
// biometric login opened are extended to ExtendedTrading from their start.
// A PIN re-authentication proves presence but extends nothing: PIN access
// stays 12 hours.
func (s *Service) Reauth(ctx context.Context, in *sls.IBKeyInstance, r proto.ReauthRequest) (*proto.ReauthResult, error) {
	if r.Unlock != proto.UnlockPIN && r.Unlock != proto.UnlockBiometric {
		return nil, sls.Errorf(sls.CodeInvalidArgument, `unlock must be "pin" or "biometric".`)
	}
	if r.Unlock == proto.UnlockBiometric && in.Platform != proto.PlatformIOS {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Only an iOS instance unlocks with biometrics.")
	}
	if !s.checkNonce(in, r.Nonce) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The nonce is unknown or too old; ask for a new one.")
	}
	lg := s.d.Login()
	now := s.now()
	res := &proto.ReauthResult{Extended: []proto.ExtendedSession{}}
	var outcome error
	err := s.d.Store.Update(ctx, func(tx sls.Tx) error {
		res.Extended, outcome = res.Extended[:0], nil
		d, err := tx.Device(ctx, r.DeviceID)
		if err != nil || d.Kind != sls.KindIBKey || d.Serial != in.ID {
			return sls.Errorf(sls.CodeForbidden, "This app does not hold that user.")
		}
		if !d.Usable(now) {
			return sls.ErrDeviceUnavailable
		}
		u, err := tx.UserForUpdate(ctx, d.UserID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		key, err := s.offlineKey(d)
		if err != nil {
			return err
		}
		if err := proto.VerifyReauth(ed25519.PublicKey(in.SignPub), key, in.ID, d.ID, r.Unlock, r.Nonce, r.Signature, r.MAC); err != nil {
			outcome, err = s.countFailure(ctx, tx, u, d.ID, sls.PurposeStepUp, "reauth_unlock", now)
			return err
		}
		sessions, err := tx.Sessions(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, ss := range sessions {
			if r.Unlock != proto.UnlockBiometric || !ss.Biometric || ss.Platform != sls.PlatformTrading ||
				ss.DeviceKind != sls.KindIBKey || !ss.Live(now) {
				continue
			}
			ext, moved, err := lg.ExtendInTx(ctx, tx, sls.ActorUser(u.ID), ss.ID, ss.CreatedAt.Add(s.cfg.ExtendedTrading.D()), now)
			if err != nil {
				return err
			}
			if moved {
				res.Extended = append(res.Extended, proto.ExtendedSession{SessionID: ext.ID, ExpiresAt: ext.ExpiresAt})
			}
		}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventReauth, u.ID, d.ID,
			map[string]any{"unlock": r.Unlock, "extended": len(res.Extended)})
	})
	if err != nil {
		return nil, err
	}
	if outcome != nil {
		return nil, outcome
	}
	return res, nil
}

// pushTransaction is what a push confirms, as the app shows it; nil for a
// login.
func pushTransaction(p *sls.IBKeyPush) *proto.Transaction {
	switch {
	case p.Bound.Currency != "":
		return &proto.Transaction{Currency: p.Bound.Currency, Amount: policy.FormatMinor(p.Bound.Currency, p.Bound.AmountMinor), Payee: p.Bound.Payee}
	case p.Bound.Payee != "": // a new banking instruction
		return &proto.Transaction{Payee: p.Bound.Payee}
	}
	return nil
}
