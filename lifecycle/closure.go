package lifecycle

import (
	"context"
	"errors"
	"slices"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// Closure reports what closing an account did.
type Closure struct {
	Account        *sls.Account `json:"account"`
	DevicesRevoked int          `json:"devices_revoked"`
	SessionsEnded  int          `json:"sessions_ended"`
	// Orders lists the orders settled by the closure (order id → event).
	Orders map[string]string `json:"orders"`
}

// CloseAccount closes an account (SPEC §6): every device of its users is
// deactivated and every live session ended; devices the client still
// holds are closed as not returned (their deposits forfeited), orders not
// yet shipped are cancelled (deposits released), and returns already on
// their way are received as usual later. An order in transit must first be
// recorded delivered or undeliverable. Afterwards the users can still log
// in to the Client Portal with username and password alone, to read
// statements and tax forms, and nothing else (login.BasicGate).
func (s *Service) CloseAccount(ctx context.Context, actor, accountID, reason string) (*Closure, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Give the reason for the closure (up to 500 characters).")
	}
	now := s.now()
	var out *Closure
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		if _, err := tx.Account(ctx, accountID); errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No account %q.", accountID)
		} else if err != nil {
			return err
		}
		// Users first, then the account: the order device activation takes
		// (manage.ActivateInTx), so the two never wait on each other.
		users, err := tx.UsersByAccount(ctx, accountID)
		if err != nil {
			return err
		}
		slices.SortFunc(users, func(x, y *sls.User) int { return strings.Compare(x.ID, y.ID) })
		for i, u := range users {
			if users[i], err = tx.UserForUpdate(ctx, u.ID); err != nil {
				return err
			}
		}
		a, err := tx.AccountForUpdate(ctx, accountID)
		if err != nil {
			return err
		}
		if a.Closed() {
			return sls.Errorf(sls.CodeConflict, "Account %s is already closed.", a.ID)
		}
		orders, err := tx.DeviceOrders(ctx, sls.DeviceOrderFilter{AccountID: a.ID})
		if err != nil {
			return err
		}
		for _, o := range orders {
			if o.State == string(policy.StateShipped) {
				return sls.Errorf(sls.CodeConflict, "Order %s is in transit; record it delivered or undeliverable before closing the account.", o.ID).
					WithDetail(policy.DetailCondition, CondInTransit).WithDetail("order_id", o.ID)
			}
		}
		out = &Closure{Orders: map[string]string{}}
		for _, o0 := range orders {
			var ev policy.Event
			switch policy.State(o0.State) {
			case policy.StateOrdered:
				ev = policy.EventCancel
			case policy.StateDelivered, policy.StateActive, policy.StateDamaged:
				ev = policy.EventCloseNotReturned
			default:
				continue // final, or a return on its way
			}
			o, err := tx.DeviceOrderForUpdate(ctx, o0.ID)
			if err != nil {
				return err
			}
			if err := s.step(ctx, tx, o, ev, actor, now, map[string]any{"account_closed": true}); err != nil {
				return err
			}
			out.Orders[o.ID] = string(ev)
		}
		for _, u := range users {
			devs, err := tx.Devices(ctx, u.ID)
			if err != nil {
				return err
			}
			for _, d := range devs {
				if d.State == sls.StateRevoked || d.State == sls.StateExpired {
					continue
				}
				d.State = sls.StateRevoked
				if err := tx.PutDevice(ctx, d); err != nil {
					return err
				}
				if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceRevoked, u.ID, d.ID, map[string]any{"kind": d.Kind, "reason": "account_closed"}); err != nil {
					return err
				}
				out.DevicesRevoked++
			}
			// The statements-only scope is what a closed account keeps (SPEC
			// §6); it is left running, everything else ends.
			ended, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: u.ID, Keep: sls.ScopeStatementsOnly}, sls.EndAccountClosed, actor, now)
			if err != nil {
				return err
			}
			out.SessionsEnded += len(ended)
		}
		a.ClosedAt = now
		if err := tx.PutAccount(ctx, a); err != nil {
			return err
		}
		out.Account = a
		return sls.Audit(ctx, tx, now, actor, EventAccountClosed, "", "", map[string]any{"account_id": a.ID, "reason": reason,
			"devices_revoked": out.DevicesRevoked, "sessions_ended": out.SessionsEnded, "orders": out.Orders})
	})
	return out, err
}
