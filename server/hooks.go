package server

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
)

// loginHooks calls every feature's login hook in order.
type loginHooks []login.Hooks

func (hs loginHooks) LoginCompleted(ctx context.Context, tx sls.Tx, u *sls.User, s *sls.Session, c login.Client, now time.Time) error {
	for _, h := range hs {
		if err := h.LoginCompleted(ctx, tx, u, s, c, now); err != nil {
			return err
		}
	}
	return nil
}

// manageHooks calls every feature's device hooks in order.
type manageHooks []manage.Hooks

func (hs manageHooks) DeviceActivated(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error {
	for _, h := range hs {
		if err := h.DeviceActivated(ctx, tx, u, d, now); err != nil {
			return err
		}
	}
	return nil
}

func (hs manageHooks) TempPasscodeIssued(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error {
	for _, h := range hs {
		if err := h.TempPasscodeIssued(ctx, tx, u, now); err != nil {
			return err
		}
	}
	return nil
}

// purgeLogins drops login transactions a day past their deadline: they
// can no longer be answered, and the audit trail keeps what matters.
func (s *Server) purgeLogins(ctx context.Context, now time.Time) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.DeleteLoginsBefore(ctx, now.Add(-24*time.Hour))
		return err
	})
}

// sessionRetention is how long an ended or expired session is kept: the
// sessions page and slsctl sessions show the recent history, and the
// new-login notice compares networks with it ("a network none of the
// user's sessions came from" means none in this time). The audit trail
// keeps every login for good.
const sessionRetention = 90 * 24 * time.Hour

// purgeSessions drops sessions past their retention, so that a login's
// work does not grow with the user's history.
func (s *Server) purgeSessions(ctx context.Context, now time.Time) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.PurgeSessions(ctx, now.Add(-sessionRetention))
		return err
	})
}

// purgeUsedResponses drops replay records that expired: a response they
// remember could no longer be accepted anyway (its challenge expired).
// Answers never scan them.
func (s *Server) purgeUsedResponses(ctx context.Context, now time.Time) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.PurgeUsedResponses(ctx, now)
		return err
	})
}
