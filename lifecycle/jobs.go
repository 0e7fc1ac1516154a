package lifecycle

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/scheduler"
)

// Jobs returns the timed work of the lifecycle for the shared scheduler.
// Each acts on what is due at the time it runs and each change happens
// under the lock of what it changes, so a run that fails half-way, or that
// two nodes both start, is harmless.
func (s *Service) Jobs() []scheduler.Job {
	every := s.Config.JobEvery
	if every <= 0 {
		every = DefaultJobEvery
	}
	return []scheduler.Job{
		{Name: "lifecycle-auto-activation", Every: every, Run: s.RunAutoActivation},
		{Name: "expire-temporary-devices", Every: every, Run: s.ExpireDevices},
		{Name: "purge-withdrawal-confirmations", Every: time.Hour, Run: s.Purge},
	}
}

// batch bounds the work of one run; the rest waits for the next period.
const batch = 500

// RunAutoActivation sends the notices due before auto-activation and
// activates delivered cards whose time has come (SPEC §6: three weeks after
// delivery unless the client activated them first; the client is told a
// week before and a day before, by default).
//
// Auto-activation never happens unannounced: if, when a card is due, one
// of its notices has not gone out (the scheduler was down, the clock
// jumped), the notices go out now and the activation moves to the shortest
// notice period later — the client always gets the promised warning
// before the card starts to work.
func (s *Service) RunAutoActivation(ctx context.Context, now time.Time) error {
	leads := s.notices()
	horizon := now
	if len(leads) > 0 {
		horizon = now.Add(leads[0])
	}
	var due []*sls.DeviceOrder
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		due, err = tx.DeviceOrders(ctx, sls.DeviceOrderFilter{State: string(policy.StateDelivered), AutoActivateBefore: horizon, Limit: batch})
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range due {
		err := s.Store.Update(ctx, func(tx sls.Tx) error { return s.autoActivate(ctx, tx, o.ID, now, leads) })
		if err != nil {
			s.log().Error("lifecycle: auto-activation", "order_id", o.ID, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) autoActivate(ctx context.Context, tx sls.Tx, id string, now time.Time, leads []time.Duration) error {
	o, u, err := lockOrder(ctx, tx, id)
	if err != nil {
		return err
	}
	if o.State != string(policy.StateDelivered) || o.AutoActivateAt.IsZero() {
		return nil // activated by the client, reported lost… meanwhile
	}
	sent, err := tx.OrderNotices(ctx, o.ID)
	if err != nil {
		return err
	}
	var pending []time.Duration
	for _, lead := range leads {
		if _, ok := sent[lead.String()]; !ok && !now.Before(o.AutoActivateAt.Add(-lead)) {
			pending = append(pending, lead)
		}
	}
	if len(pending) > 0 && !now.Before(o.AutoActivateAt) {
		from := o.AutoActivateAt
		o.AutoActivateAt, o.UpdatedAt = now.Add(leads[len(leads)-1]), now
		if err := tx.PutDeviceOrder(ctx, o); err != nil {
			return err
		}
		detail := map[string]any{"order_id": o.ID, "from": from, "to": o.AutoActivateAt, "missed_notices": len(pending)}
		if err := s.history(ctx, tx, o, historyPostponed, o.State, o.State, sls.ActorSystem, now, detail); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventOrderPostponed, o.UserID, o.DeviceID, detail); err != nil {
			return err
		}
	}
	for _, lead := range pending {
		first, err := tx.MarkOrderNotice(ctx, o.ID, lead.String(), now)
		if err != nil {
			return err
		}
		if !first {
			continue
		}
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventNoticeSent, o.UserID, o.DeviceID,
			map[string]any{"order_id": o.ID, "notice": lead.String(), "activates_at": o.AutoActivateAt}); err != nil {
			return err
		}
		date := o.AutoActivateAt.UTC().Format("2006-01-02 15:04 UTC")
		if err := s.notify(ctx, tx, o.UserID, sls.NoteAutoActivationComing, map[string]string{"Device": string(o.Kind), "Date": date}); err != nil {
			return err
		}
	}
	if len(pending) > 0 || now.Before(o.AutoActivateAt) {
		return nil
	}
	d, err := tx.Device(ctx, o.DeviceID)
	if err != nil {
		return err
	}
	switch d.State {
	case sls.StatePending:
		if err := s.Manage.ActivateInTx(ctx, tx, sls.ActorSystem, u, d, now); err != nil {
			return err
		}
	case sls.StateActive: // an operator activated it outside the lifecycle
	default:
		return nil // revoked or suspended: never switched on by a timer
	}
	o.ActivatedAt = now
	if err := s.step(ctx, tx, o, policy.EventAutoActivate, sls.ActorSystem, now, map[string]any{"device_id": d.ID}); err != nil {
		return err
	}
	return s.notify(ctx, tx, o.UserID, sls.NoteDeviceAutoActivated, map[string]string{"Device": string(o.Kind)})
}

// ExpireDevices marks online cards and temporary passcodes past their
// ExpiresAt as expired. Logins refuse them anyway (Device.Usable); the
// state makes device lists and audits say so.
func (s *Service) ExpireDevices(ctx context.Context, now time.Time) error {
	for {
		var n int
		err := s.Store.Update(ctx, func(tx sls.Tx) error {
			list, err := tx.ExpiringDevices(ctx, now, batch)
			if err != nil {
				return err
			}
			n = len(list)
			for _, d := range list {
				was := d.State
				d.State = sls.StateExpired
				if err := tx.PutDevice(ctx, d); err != nil {
					return err
				}
				if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventDeviceExpired, d.UserID, d.ID,
					map[string]any{"kind": d.Kind, "expires_at": d.ExpiresAt, "was": was}); err != nil {
					return err
				}
				if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, sls.EndDeviceExpired, sls.ActorSystem, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < batch {
			return err
		}
	}
}

// Purge drops withdrawal confirmations a day past their deadline: they can
// no longer be answered or used, and the audit trail keeps what happened.
func (s *Service) Purge(ctx context.Context, now time.Time) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.DeleteStepUpsBefore(ctx, now.Add(-24*time.Hour))
		return err
	})
}
