package sqlstore

import (
	"context"

	sls "github.com/secure-login-system/sls"
)

func (t *tx) CryptoPermission(ctx context.Context, userID string) (*sls.CryptoPermission, error) {
	p := sls.CryptoPermission{UserID: userID}
	var at int64
	err := t.queryRow(ctx, `SELECT status, investor_type, assets_hkd, residence, rule, decided_at FROM crypto_permissions WHERE user_id = ?`,
		userID).Scan(&p.Status, &p.InvestorType, &p.AssetsHKD, &p.Residence, &p.Rule, &at)
	if err != nil {
		return nil, wrap("crypto permission", err)
	}
	p.DecidedAt = fromMicro(at)
	return &p, nil
}

func (t *tx) PutCryptoPermission(ctx context.Context, p *sls.CryptoPermission) error {
	_, err := t.exec(ctx, `INSERT INTO crypto_permissions (user_id, status, investor_type, assets_hkd, residence, rule, decided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, investor_type = excluded.investor_type,
		assets_hkd = excluded.assets_hkd, residence = excluded.residence, rule = excluded.rule, decided_at = excluded.decided_at`,
		p.UserID, p.Status, p.InvestorType, p.AssetsHKD, p.Residence, p.Rule, p.DecidedAt.UnixMicro())
	return wrap("put crypto permission", err)
}

func (t *tx) PutCryptoHolding(ctx context.Context, h *sls.CryptoHolding) error {
	_, err := t.exec(ctx, `INSERT INTO crypto_holdings (account_id, value_usd, updated_at, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET value_usd = excluded.value_usd, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		h.AccountID, h.ValueUSD, h.UpdatedAt.UnixMicro(), h.UpdatedBy)
	return wrap("put crypto holding", err)
}

func (t *tx) CryptoHoldings(ctx context.Context) ([]*sls.CryptoHolding, error) {
	rows, err := t.query(ctx, `SELECT account_id, value_usd, updated_at, updated_by FROM crypto_holdings ORDER BY account_id`)
	if err != nil {
		return nil, wrap("crypto holdings", err)
	}
	return collect(rows, func(s scanner) (*sls.CryptoHolding, error) {
		var h sls.CryptoHolding
		var at int64
		err := s.Scan(&h.AccountID, &h.ValueUSD, &at, &h.UpdatedBy)
		h.UpdatedAt = fromMicro(at)
		return &h, err
	})
}

func (t *tx) AddCryptoDailyValue(ctx context.Context, v *sls.CryptoDailyValue) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO crypto_daily_values (account_id, day, value_usd, recorded_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		v.AccountID, v.Day, v.ValueUSD, v.At.UnixMicro())
	if err != nil {
		return false, wrap("add crypto daily value", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("add crypto daily value", err)
}

func (t *tx) CryptoDailyValues(ctx context.Context, accountID, from, to string) ([]*sls.CryptoDailyValue, error) {
	q := `SELECT account_id, day, value_usd, recorded_at FROM crypto_daily_values WHERE day >= ? AND day <= ?`
	args := []any{from, to}
	if accountID != "" {
		q += ` AND account_id = ?`
		args = append(args, accountID)
	}
	rows, err := t.query(ctx, q+` ORDER BY account_id, day`, args...)
	if err != nil {
		return nil, wrap("crypto daily values", err)
	}
	return collect(rows, func(s scanner) (*sls.CryptoDailyValue, error) {
		var v sls.CryptoDailyValue
		var at int64
		err := s.Scan(&v.AccountID, &v.Day, &v.ValueUSD, &at)
		v.At = fromMicro(at)
		return &v, err
	})
}

func (t *tx) AddCustodyFee(ctx context.Context, f *sls.CustodyFee) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO crypto_custody_fees (account_id, month, days, average_usd, bp_monthly, fee_usd, computed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		f.AccountID, f.Month, f.Days, f.AverageUSD, f.BPMonthly, f.FeeUSD, f.At.UnixMicro())
	if err != nil {
		return false, wrap("add custody fee", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("add custody fee", err)
}

func (t *tx) CustodyFees(ctx context.Context, accountID, month string) ([]*sls.CustodyFee, error) {
	q := `SELECT account_id, month, days, average_usd, bp_monthly, fee_usd, computed_at FROM crypto_custody_fees WHERE 1 = 1`
	var args []any
	if accountID != "" {
		q += ` AND account_id = ?`
		args = append(args, accountID)
	}
	if month != "" {
		q += ` AND month = ?`
		args = append(args, month)
	}
	rows, err := t.query(ctx, q+` ORDER BY month, account_id`, args...)
	if err != nil {
		return nil, wrap("custody fees", err)
	}
	return collect(rows, func(s scanner) (*sls.CustodyFee, error) {
		var f sls.CustodyFee
		var at int64
		err := s.Scan(&f.AccountID, &f.Month, &f.Days, &f.AverageUSD, &f.BPMonthly, &f.FeeUSD, &at)
		f.At = fromMicro(at)
		return &f, err
	})
}

var _ sls.CryptoStore = (*tx)(nil)
