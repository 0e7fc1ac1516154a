package sqlstore

import (
	"context"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

const userCols = `id, username, account_id, password_hash, email, mobile, mobile_verified_at, mobile_changed_at,
	identity_sealed, can_change_security, opted_out, always_2fa, lang, failed_answers, locked_until, created_at, failed_passwords, untrusted_until, disabled_at, deleted_at`

func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

func scanUser(s scanner) (*sls.User, error) {
	var u sls.User
	var created int64
	err := s.Scan(&u.ID, &u.Username, &u.AccountID, &u.PasswordHash, &u.Email, &u.Mobile,
		nullTime{&u.MobileVerifiedAt}, nullTime{&u.MobileChangedAt}, &u.SealedIdentity,
		&u.CanChangeSecurity, &u.OptedOut, &u.Always2FA, &u.Lang, &u.FailedAnswers, nullTime{&u.LockedUntil}, &created, &u.FailedPasswords, nullTime{&u.UntrustedUntil},
		nullTime{&u.DisabledAt}, nullTime{&u.DeletedAt})
	if err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicro(created)
	return &u, nil
}

func (t *tx) CreateUser(ctx context.Context, u *sls.User) error {
	_, err := t.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.AccountID, u.PasswordHash, u.Email, u.Mobile, ts(u.MobileVerifiedAt), ts(u.MobileChangedAt),
		u.SealedIdentity, u.CanChangeSecurity, u.OptedOut, u.Always2FA, u.Lang, u.FailedAnswers, ts(u.LockedUntil), u.CreatedAt.UnixMicro(), u.FailedPasswords, ts(u.UntrustedUntil),
		ts(u.DisabledAt), ts(u.DeletedAt))
	return wrap("create user", err)
}

func (t *tx) userWhere(ctx context.Context, where string, arg any) (*sls.User, error) {
	u, err := scanUser(t.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+where, arg))
	return u, wrap("user", err)
}

func (t *tx) User(ctx context.Context, id string) (*sls.User, error) {
	return t.userWhere(ctx, "id = ?", id)
}

func (t *tx) UserByUsername(ctx context.Context, username string) (*sls.User, error) {
	return t.userWhere(ctx, "username = ?", username)
}

// UserForUpdate locks the user's row and reads the account with it: the
// callers (a login's steps) read the account next, and a statement is a
// round trip on PostgreSQL. The account is kept for Account in this
// transaction.
func (t *tx) UserForUpdate(ctx context.Context, id string) (*sls.User, error) {
	lock := ""
	if t.engine == Postgres {
		lock = " FOR UPDATE OF u"
	}
	row := t.queryRow(ctx, userAccountQuery+lock, id)
	var a sls.Account
	u, err := scanUser(scanFunc(func(dest ...any) error { return row.Scan(append(dest, accountDests(&a)...)...) }))
	if err != nil {
		return nil, wrap("user", err)
	}
	t.readAccount(a)
	return u, nil
}

// readAccount keeps an account read with a user, for Account.
func (t *tx) readAccount(a sls.Account) {
	if t.accounts == nil {
		t.accounts = map[string]sls.Account{}
	}
	t.accounts[a.ID] = a
}

// userAccountQuery reads a user and its account (UserForUpdate). Like
// every query that qualifies its columns, it is built once, not per call:
// qualified splits and joins strings, a cost each login paid.
var userAccountQuery = `SELECT ` + qualified("u", userCols) + `, ` + qualified("a", accountCols) + `
		FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = ?`

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// qualified prefixes each of the comma-separated columns with alias.
func qualified(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func (t *tx) PutUser(ctx context.Context, u *sls.User) error {
	res, err := t.exec(ctx, `UPDATE users SET password_hash = ?, email = ?, mobile = ?, mobile_verified_at = ?, mobile_changed_at = ?,
		identity_sealed = ?, can_change_security = ?, opted_out = ?, always_2fa = ?, lang = ?, failed_answers = ?, locked_until = ?, failed_passwords = ?,
		untrusted_until = ?, disabled_at = ?, deleted_at = ? WHERE id = ?`,
		u.PasswordHash, u.Email, u.Mobile, ts(u.MobileVerifiedAt), ts(u.MobileChangedAt), u.SealedIdentity,
		u.CanChangeSecurity, u.OptedOut, u.Always2FA, u.Lang, u.FailedAnswers, ts(u.LockedUntil), u.FailedPasswords, ts(u.UntrustedUntil),
		ts(u.DisabledAt), ts(u.DeletedAt), u.ID)
	return mustAffect("put user", res, err)
}

func (t *tx) UsersByAccount(ctx context.Context, accountID string) ([]*sls.User, error) {
	rows, err := t.query(ctx, `SELECT `+userCols+` FROM users WHERE account_id = ? ORDER BY username`, accountID)
	if err != nil {
		return nil, wrap("users by account", err)
	}
	return collect(rows, scanUser)
}

// collect scans every row with scan and closes rows.
func collect[T any](rows interface {
	scanner
	Next() bool
	Err() error
	Close() error
}, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap("scan", err)
		}
		out = append(out, v)
	}
	return out, wrap("rows", rows.Err())
}
