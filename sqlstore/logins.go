package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	sls "github.com/secure-login-system/sls"
)

const loginCols = `id_hash, user_id, platform, state, device_id, attempts, created_at, deadline, client_ip, user_agent,
	prompt, factor_state, completed_at, session_id, known_client`

func scanLogin(s scanner) (*sls.LoginTx, error) {
	l := sls.LoginTx{Challenge: sls.Challenge{Purpose: sls.PurposeLogin}} // the logins table holds login challenges only
	var created, deadline int64
	var prompt string
	err := s.Scan(&l.IDHash, &l.UserID, &l.Platform, &l.State, &l.DeviceID, &l.Attempts, &created, &deadline,
		&l.ClientIP, &l.UserAgent, &prompt, &l.FactorState, nullTime{&l.CompletedAt}, &l.SessionID, &l.KnownClient)
	if err != nil {
		return nil, err
	}
	l.CreatedAt, l.Deadline = fromMicro(created), fromMicro(deadline)
	if prompt != "" {
		l.Prompt = new(sls.Prompt)
		if err := json.Unmarshal([]byte(prompt), l.Prompt); err != nil {
			return nil, fmt.Errorf("prompt: %w", err)
		}
	}
	return &l, nil
}

func promptJSON(p *sls.Prompt) (string, error) {
	if p == nil {
		return "", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

func (t *tx) CreateLogin(ctx context.Context, l *sls.LoginTx) error {
	prompt, err := promptJSON(l.Prompt)
	if err != nil {
		return wrap("create login", err)
	}
	_, err = t.exec(ctx, `INSERT INTO logins (`+loginCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.IDHash, l.UserID, l.Platform, l.State, l.DeviceID, l.Attempts, l.CreatedAt.UnixMicro(), l.Deadline.UnixMicro(),
		l.ClientIP, l.UserAgent, prompt, l.FactorState, ts(l.CompletedAt), l.SessionID, l.KnownClient)
	return wrap("create login", err)
}

// loginUserDeviceQuery reads a login, its user and the user's account,
// and the login's device when it has chosen one (built once, see
// userAccountQuery). The device's columns are empty when none joins
// (COALESCE: the destinations are not nullable; the two times scan NULL
// as zero).
var loginUserDeviceQuery = `SELECT ` + qualified("l", loginCols) + `, ` + qualified("u", userCols) + `, ` + qualified("a", accountCols) + `,
		COALESCE(d.id, ''), COALESCE(d.user_id, ''), COALESCE(d.kind, ''), COALESCE(d.state, ''), COALESCE(d.serial, ''),
		COALESCE(d.label, ''), COALESCE(d.secret, ''), d.factor_state, COALESCE(d.created_at, 0), d.activated_at, d.expires_at
		FROM logins l JOIN users u ON u.id = l.user_id JOIN accounts a ON a.id = u.account_id
		LEFT JOIN devices d ON d.id = l.device_id
		WHERE l.id_hash = ?`

func (t *tx) LoginWithUserForUpdate(ctx context.Context, idHash string) (*sls.LoginTx, *sls.User, *sls.Device, error) {
	lock := ""
	if t.engine == Postgres {
		// PostgreSQL locks the rows in the order of this list: the user,
		// then the login, the order every path keeps (a push's answer, a
		// step-up, a device order lock the user first), so that two of
		// them never wait for each other.
		lock = " FOR UPDATE OF u, l"
	}
	row := t.queryRow(ctx, loginUserDeviceQuery+lock, idHash)
	var u *sls.User
	var a sls.Account
	var d *sls.Device
	// Each scan function hands its destinations to the next, and the last
	// one scans the row into all of them.
	l, err := scanLogin(scanFunc(func(loginDests ...any) error {
		var err error
		u, err = scanUser(scanFunc(func(userDests ...any) error {
			d, err = scanDevice(scanFunc(func(deviceDests ...any) error {
				dests := append(append(append(loginDests, userDests...), accountDests(&a)...), deviceDests...)
				return row.Scan(dests...)
			}))
			return err
		}))
		return err
	}))
	if err != nil {
		return nil, nil, nil, wrap("login", err)
	}
	t.readLogin(l)
	t.readAccount(a)
	if d.ID == "" {
		d = nil
	}
	return l, u, d, nil
}

func (t *tx) login(ctx context.Context, idHash, suffix string) (*sls.LoginTx, error) {
	l, err := scanLogin(t.queryRow(ctx, `SELECT `+loginCols+` FROM logins WHERE id_hash = ?`+suffix, idHash))
	if err != nil {
		return nil, wrap("login", err)
	}
	t.readLogin(l)
	return l, nil
}

// loginDeadline is a login's deadline as stored, in microseconds.
type loginDeadline struct {
	idHash string
	micros int64
}

// readLogin remembers the deadline l was read with, for PutLogin (the
// last login read: a step reads one).
func (t *tx) readLogin(l *sls.LoginTx) {
	t.loginRead = loginDeadline{l.IDHash, l.Deadline.UnixMicro()}
}

func (t *tx) Login(ctx context.Context, idHash string) (*sls.LoginTx, error) {
	return t.login(ctx, idHash, "")
}

func (t *tx) LoginForUpdate(ctx context.Context, idHash string) (*sls.LoginTx, error) {
	return t.login(ctx, idHash, t.forUpdate())
}

func (t *tx) PutLogin(ctx context.Context, l *sls.LoginTx) error {
	prompt, err := promptJSON(l.Prompt)
	if err != nil {
		return wrap("put login", err)
	}
	// The deadline is set only when the step moved it: an indexed column
	// in the SET list rewrites its index entry even when the value is the
	// same, one more page for the step's commit to write and flush.
	const set = `state = ?, device_id = ?, attempts = ?, prompt = ?, factor_state = ?, completed_at = ?, session_id = ?`
	query := `UPDATE logins SET ` + set + ` WHERE id_hash = ?`
	args := []any{l.State, l.DeviceID, l.Attempts, prompt, l.FactorState, ts(l.CompletedAt), l.SessionID, l.IDHash}
	stored := loginDeadline{l.IDHash, l.Deadline.UnixMicro()}
	if t.loginRead != stored {
		query = `UPDATE logins SET deadline = ?, ` + set + ` WHERE id_hash = ?`
		args = append([]any{stored.micros}, args...)
	}
	res, err := t.exec(ctx, query, args...)
	if err == nil {
		t.loginRead = stored
	}
	return mustAffect("put login", res, err)
}

func (t *tx) DeleteLoginsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM logins WHERE deadline < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("delete logins", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete logins", err)
}

func (t *tx) PendingLogins(ctx context.Context, now time.Time) (int64, error) {
	// The deadline index bounds the scan to logins not yet expired; the
	// purge removes the rest.
	var n int64
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM logins WHERE deadline > ? AND state IN (?, ?)`,
		now.UnixMicro(), sls.LoginSelectDevice, sls.LoginChallenged).Scan(&n)
	return n, wrap("pending logins", err)
}
