package sqlstore

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
)

func (t *tx) CreateReportLink(ctx context.Context, l *sls.ReportLink) error {
	_, err := t.exec(ctx, `INSERT INTO report_links (token_hash, user_id, notice, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?)`,
		l.TokenHash, l.UserID, l.Notice, l.CreatedAt.UnixMicro(), l.ExpiresAt.UnixMicro(), zmicro(l.UsedAt))
	return wrap("create report link", err)
}

func (t *tx) ReportLinkForUpdate(ctx context.Context, tokenHash string) (*sls.ReportLink, error) {
	var l sls.ReportLink
	var created, expires, used int64
	err := t.queryRow(ctx, `SELECT token_hash, user_id, notice, created_at, expires_at, used_at FROM report_links WHERE token_hash = ?`+t.forUpdate(),
		tokenHash).Scan(&l.TokenHash, &l.UserID, &l.Notice, &created, &expires, &used)
	if err != nil {
		return nil, wrap("report link", err)
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromMicro(created), fromMicro(expires), fromZMicro(used)
	return &l, nil
}

func (t *tx) SpendReportLink(ctx context.Context, tokenHash string, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE report_links SET used_at = ? WHERE token_hash = ?`, at.UnixMicro(), tokenHash)
	return mustAffect("spend report link", res, err)
}

func (t *tx) PurgeReportLinks(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM report_links WHERE expires_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("purge report links", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("purge report links", err)
}

var _ sls.ReportLinkStore = (*tx)(nil)

func (t *tx) CoolDown(ctx context.Context, userID string) (*sls.CoolDown, error) {
	c := sls.CoolDown{UserID: userID}
	var started, until int64
	err := t.queryRow(ctx, `SELECT reason, started_at, until FROM cool_downs WHERE user_id = ?`, userID).Scan(&c.Reason, &started, &until)
	if err != nil {
		return nil, wrap("cool-down", err)
	}
	c.StartedAt, c.Until = fromMicro(started), fromMicro(until)
	return &c, nil
}

func (t *tx) PutCoolDown(ctx context.Context, c *sls.CoolDown) error {
	_, err := t.exec(ctx, `INSERT INTO cool_downs (user_id, reason, started_at, until) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason, started_at = excluded.started_at, until = excluded.until`,
		c.UserID, c.Reason, c.StartedAt.UnixMicro(), c.Until.UnixMicro())
	return wrap("put cool-down", err)
}

func (t *tx) DeleteCoolDown(ctx context.Context, userID string) error {
	_, err := t.exec(ctx, `DELETE FROM cool_downs WHERE user_id = ?`, userID)
	return wrap("delete cool-down", err)
}

var _ sls.CoolDownStore = (*tx)(nil)
