package cryptotrade

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/scheduler"
)

// Jobs are the feature's timed work (register them with the scheduler).
func (s *Service) Jobs() []scheduler.Job {
	return []scheduler.Job{{Name: "crypto-custody", Every: s.Config.JobEvery, Run: s.RunCustody}}
}

// RunCustody records today's value of every account's reported holdings
// and, for the month before now, writes each account's custody fee. Both
// steps are keyed in the database (account and day; account and month),
// so running it again — later the same day, or on another node — adds
// nothing: it is safe on several nodes and after a half-done run.
func (s *Service) RunCustody(ctx context.Context, now time.Time) error {
	if !s.Config.Enabled {
		return nil
	}
	now = now.UTC()
	if err := s.snapshot(ctx, now); err != nil {
		return err
	}
	return s.chargeMonth(ctx, time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC), now)
}

// snapshot records today's value (UTC day) of every reported holding.
func (s *Service) snapshot(ctx context.Context, now time.Time) error {
	day := now.Format(time.DateOnly)
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		hs, err := tx.CryptoHoldings(ctx)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if _, err := tx.AddCryptoDailyValue(ctx, &sls.CryptoDailyValue{AccountID: h.AccountID, Day: day, ValueUSD: h.ValueUSD, At: now}); err != nil {
				return err
			}
		}
		return nil
	})
}

// chargeMonth writes the custody fee of the month starting at first for
// every account with a value recorded in it. The article charges "on the
// average daily value": the average is over every calendar day of the
// month, and a day without a recorded value counts as nothing held (a day
// the job could not record is never guessed, and never charged).
func (s *Service) chargeMonth(ctx context.Context, first, now time.Time) error {
	last := first.AddDate(0, 1, -1)
	days := last.Day()
	month := first.Format("2006-01")
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		values, err := tx.CryptoDailyValues(ctx, "", first.Format(time.DateOnly), last.Format(time.DateOnly))
		if err != nil {
			return err
		}
		byAccount := map[string][]int64{}
		var order []string
		for _, v := range values {
			if _, seen := byAccount[v.AccountID]; !seen {
				order = append(order, v.AccountID)
				byAccount[v.AccountID] = make([]int64, days)
			}
			if d, err := time.Parse(time.DateOnly, v.Day); err == nil && d.Day() <= days {
				byAccount[v.AccountID][d.Day()-1] = v.ValueUSD
			}
		}
		for _, acct := range order {
			daily := byAccount[acct]
			var sum int64
			for _, v := range daily {
				sum += v
			}
			f := &sls.CustodyFee{AccountID: acct, Month: month, Days: days, AverageUSD: (2*sum + int64(days)) / (2 * int64(days)),
				BPMonthly: s.Config.Rules.CustodyBPMonthly, FeeUSD: s.Config.Rules.CustodyFee(daily), At: now}
			added, err := tx.AddCustodyFee(ctx, f)
			if err != nil {
				return err
			}
			if added {
				if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventCustodyFee, "", "", map[string]any{
					"account_id": acct, "month": month, "average_usd_cents": f.AverageUSD, "fee_usd_cents": f.FeeUSD, "bp_monthly": f.BPMonthly,
				}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ReportHolding sets the current value of username's account's
// cryptocurrency holdings (the back office's report), audited.
func (s *Service) ReportHolding(ctx context.Context, actor, username, valueUSD string) (*sls.CryptoHolding, error) {
	if !s.Config.Enabled {
		return nil, ErrNotOffered
	}
	v, err := ParseCents("value_usd", valueUSD)
	if err != nil {
		return nil, err
	}
	var h *sls.CryptoHolding
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserByUsername(ctx, username)
		if errors.Is(err, sls.ErrNotFound) {
			u, err = tx.User(ctx, username) // a user id serves as well
		}
		if err != nil {
			return err
		}
		now := s.Clock.Now().UTC()
		h = &sls.CryptoHolding{AccountID: u.AccountID, ValueUSD: v, UpdatedAt: now, UpdatedBy: actor}
		if err := tx.PutCryptoHolding(ctx, h); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventHoldingReported, u.ID, "", map[string]any{"account_id": u.AccountID, "value_usd_cents": v})
	})
	return h, err
}

// CustodyLedger lists the custody-fee ledger, filtered by account and
// month (YYYY-MM) when given.
func (s *Service) CustodyLedger(ctx context.Context, accountID, month string) ([]*sls.CustodyFee, error) {
	if month != "" {
		if _, err := time.Parse("2006-01", month); err != nil {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "month must be written YYYY-MM.").WithDetail("field", "month")
		}
	}
	if len(accountID) > 64 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "account is too long.").WithDetail("field", "account")
	}
	var out []*sls.CustodyFee
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.CustodyFees(ctx, accountID, month)
		return err
	})
	if out == nil {
		out = []*sls.CustodyFee{}
	}
	return out, err
}
