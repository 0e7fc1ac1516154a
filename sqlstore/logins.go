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

func (t *tx) login(ctx context.Context, idHash, suffix string) (*sls.LoginTx, error) {
	l, err := scanLogin(t.queryRow(ctx, `SELECT `+loginCols+` FROM logins WHERE id_hash = ?`+suffix, idHash))
	if err != nil {
		return nil, wrap("login", err)
	}
	if t.deadlines == nil {
		t.deadlines = map[string]int64{}
	}
	t.deadlines[idHash] = l.Deadline.UnixMicro()
	return l, nil
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
	deadline := l.Deadline.UnixMicro()
	if read, ok := t.deadlines[l.IDHash]; ok && read == deadline {
		// An indexed column in the SET list rewrites its index entry even
		// when the value is the same: one more page for the step's commit
		// to write and flush. Most steps keep the deadline.
		res, err := t.exec(ctx, `UPDATE logins SET state = ?, device_id = ?, attempts = ?, prompt = ?, factor_state = ?,
			completed_at = ?, session_id = ? WHERE id_hash = ?`,
			l.State, l.DeviceID, l.Attempts, prompt, l.FactorState, ts(l.CompletedAt), l.SessionID, l.IDHash)
		return mustAffect("put login", res, err)
	}
	res, err := t.exec(ctx, `UPDATE logins SET state = ?, device_id = ?, attempts = ?, deadline = ?, prompt = ?, factor_state = ?,
		completed_at = ?, session_id = ? WHERE id_hash = ?`,
		l.State, l.DeviceID, l.Attempts, deadline, prompt, l.FactorState, ts(l.CompletedAt), l.SessionID, l.IDHash)
	if err == nil && t.deadlines != nil {
		t.deadlines[l.IDHash] = deadline
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
