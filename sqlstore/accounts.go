package sqlstore

import (
	"context"

	sls "github.com/secure-login-system/sls"
)

const accountCols = `id, base_currency, equity_minor, jurisdiction, created_at, closed_at, temp_passcode_last`

// accountDests are the scan destinations of accountCols into a.
func accountDests(a *sls.Account) []any {
	return []any{&a.ID, &a.BaseCurrency, &a.EquityMinor, &a.Jurisdiction, nullTime{&a.CreatedAt}, nullTime{&a.ClosedAt}, &a.TempPasscodeLast}
}

func scanAccount(s scanner) (*sls.Account, error) {
	var a sls.Account
	if err := s.Scan(accountDests(&a)...); err != nil {
		return nil, err
	}
	return &a, nil
}

func (t *tx) CreateAccount(ctx context.Context, a *sls.Account) error {
	_, err := t.exec(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.BaseCurrency, a.EquityMinor, a.Jurisdiction, a.CreatedAt.UnixMicro(), ts(a.ClosedAt), a.TempPasscodeLast)
	return wrap("create account", err)
}

func (t *tx) account(ctx context.Context, id, suffix string) (*sls.Account, error) {
	a, err := scanAccount(t.queryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`+suffix, id))
	return a, wrap("account", err)
}

func (t *tx) Account(ctx context.Context, id string) (*sls.Account, error) {
	if a, ok := t.accounts[id]; ok {
		return &a, nil // read with its user by UserForUpdate
	}
	return t.account(ctx, id, "")
}

func (t *tx) AccountForUpdate(ctx context.Context, id string) (*sls.Account, error) {
	a, err := t.account(ctx, id, t.forUpdate())
	if _, cached := t.accounts[id]; cached && err == nil {
		t.accounts[id] = *a // what Account returns next is what is locked
	}
	return a, err
}

func (t *tx) PutAccount(ctx context.Context, a *sls.Account) error {
	delete(t.accounts, a.ID)
	res, err := t.exec(ctx, `UPDATE accounts SET base_currency = ?, equity_minor = ?, jurisdiction = ?, closed_at = ?, temp_passcode_last = ? WHERE id = ?`,
		a.BaseCurrency, a.EquityMinor, a.Jurisdiction, ts(a.ClosedAt), a.TempPasscodeLast, a.ID)
	return mustAffect("put account", res, err)
}
