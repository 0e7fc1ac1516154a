package sqlstore

import (
	"context"
	"fmt"
	"time"

	sls "github.com/secure-login-system/sls"
)

const deviceCols = `id, user_id, kind, state, serial, label, secret, factor_state, created_at, activated_at, expires_at`

func scanDevice(s scanner) (*sls.Device, error) {
	var d sls.Device
	var created int64
	err := s.Scan(&d.ID, &d.UserID, &d.Kind, &d.State, &d.Serial, &d.Label, &d.Secret, &d.FactorState,
		&created, nullTime{&d.ActivatedAt}, nullTime{&d.ExpiresAt})
	if err != nil {
		return nil, err
	}
	d.CreatedAt = fromMicro(created)
	return &d, nil
}

func (t *tx) CreateDevice(ctx context.Context, d *sls.Device) error {
	_, err := t.exec(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.UserID, d.Kind, d.State, d.Serial, d.Label, d.Secret, d.FactorState,
		d.CreatedAt.UnixMicro(), ts(d.ActivatedAt), ts(d.ExpiresAt))
	return wrap("create device", err)
}

func (t *tx) Device(ctx context.Context, id string) (*sls.Device, error) {
	d, err := scanDevice(t.queryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = ?`, id))
	return d, wrap("device", err)
}

func (t *tx) DeviceBySerial(ctx context.Context, kind sls.DeviceKind, serial string) (*sls.Device, error) {
	d, err := scanDevice(t.queryRow(ctx, `SELECT `+deviceCols+` FROM devices WHERE kind = ? AND serial = ? ORDER BY created_at DESC LIMIT 1`, kind, serial))
	return d, wrap("device by serial", err)
}

func (t *tx) PutDevice(ctx context.Context, d *sls.Device) error {
	res, err := t.exec(ctx, `UPDATE devices SET state = ?, serial = ?, label = ?, secret = ?, factor_state = ?, activated_at = ?, expires_at = ? WHERE id = ?`,
		d.State, d.Serial, d.Label, d.Secret, d.FactorState, ts(d.ActivatedAt), ts(d.ExpiresAt), d.ID)
	return mustAffect("put device", res, err)
}

func (t *tx) Devices(ctx context.Context, userID string) ([]*sls.Device, error) {
	rows, err := t.query(ctx, `SELECT `+deviceCols+` FROM devices WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, wrap("devices", err)
	}
	return collect(rows, scanDevice)
}

func (t *tx) ResponseUsed(ctx context.Context, deviceID, digest string, now time.Time) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM used_responses WHERE device_id = ? AND digest = ? AND expires_at >= ?`,
		deviceID, digest, now.UnixMicro()).Scan(&n)
	return n > 0, wrap("response used", err)
}

func (t *tx) MarkResponseUsed(ctx context.Context, deviceID, digest string, now, expires time.Time) error {
	// One upsert: a new record, or an expired one taken over; a live one
	// is left alone and nothing is affected. ON CONFLICT rather than a
	// failing INSERT: on PostgreSQL a failed statement would abort the
	// whole transaction, and the caller still has to record the failed
	// attempt in it.
	res, err := t.exec(ctx, `INSERT INTO used_responses (device_id, digest, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (device_id, digest) DO UPDATE SET expires_at = excluded.expires_at WHERE used_responses.expires_at < ?`,
		deviceID, digest, expires.UnixMicro(), now.UnixMicro())
	if err != nil {
		return wrap("mark response used", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return sls.ErrConflict.Wrap(fmt.Errorf("sqlstore: response already used: %v", err))
	}
	return nil
}

func (t *tx) PurgeUsedResponses(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM used_responses WHERE expires_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("purge used responses", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("purge used responses", err)
}
