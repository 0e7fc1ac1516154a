package sqlstore

import (
	"context"
	"slices"
	"time"

	sls "github.com/secure-login-system/sls"
)

// Ending sessions is one UPDATE … RETURNING per call, so the rows ended and
// the ids reported are the same set even when another node ends sessions
// at the same moment (both engines support RETURNING).

func (t *tx) EndSessionsByDevice(ctx context.Context, deviceID string, now time.Time) ([]string, error) {
	if deviceID == "" {
		return nil, nil // password-only sessions have no device; never match them all
	}
	return t.endSessions(ctx, "end sessions by device",
		// Through the device's user: sessions_user_network has user_id
		// first, and there is no index on device_id (migration 00038).
		`UPDATE sessions SET ended_at = ?
			WHERE user_id = (SELECT user_id FROM devices WHERE id = ?) AND device_id = ? AND ended_at IS NULL AND expires_at > ?
			RETURNING id`,
		now.UnixMicro(), deviceID, deviceID, now.UnixMicro())
}

func (t *tx) EndSessionsByUser(ctx context.Context, userID string, keep sls.Scope, now time.Time) ([]string, error) {
	return t.endSessions(ctx, "end sessions by user",
		`UPDATE sessions SET ended_at = ? WHERE user_id = ? AND scope <> ? AND ended_at IS NULL AND expires_at > ? RETURNING id`,
		now.UnixMicro(), userID, keep, now.UnixMicro())
}

func (t *tx) endSessions(ctx context.Context, op, query string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(op, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	slices.Sort(ids) // RETURNING has no order; callers and audits see a stable one
	return ids, nil
}
