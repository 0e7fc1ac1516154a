package sqlstore

import (
	"context"
	"fmt"
	"slices"

	sls "github.com/secure-login-system/sls"
)

func (t *tx) SealKeys(ctx context.Context) ([]sls.SealKey, error) {
	rows, err := t.query(ctx, `SELECT id, wrapped, state, created_at, retiring_at, retired_at FROM seal_keys ORDER BY id`)
	if err != nil {
		return nil, wrap("seal keys", err)
	}
	return collect(rows, func(s scanner) (sls.SealKey, error) {
		var k sls.SealKey
		var id int
		var created, retiring, retired int64
		err := s.Scan(&id, &k.Wrapped, &k.State, &created, &retiring, &retired)
		k.ID, k.CreatedAt, k.RetiringAt, k.RetiredAt = byte(id), fromMicro(created), fromZMicro(retiring), fromZMicro(retired)
		return k, err
	})
}

func (t *tx) PutSealKey(ctx context.Context, k sls.SealKey) error {
	_, err := t.exec(ctx, `INSERT INTO seal_keys (id, wrapped, state, created_at, retiring_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET wrapped = excluded.wrapped, state = excluded.state, retiring_at = excluded.retiring_at, retired_at = excluded.retired_at`,
		int(k.ID), k.Wrapped, k.State, k.CreatedAt.UnixMicro(), zmicro(k.RetiringAt), zmicro(k.RetiredAt))
	return wrap("put seal key", err)
}

// sealedColumn refuses a column that is not in the fixed list: the names
// are put into SQL.
func sealedColumn(c sls.SealedColumn) error {
	if !slices.Contains(sls.SealedColumns, c) {
		return fmt.Errorf("sqlstore: %s is not a sealed column", c.Name())
	}
	return nil
}

func (t *tx) SealedValues(ctx context.Context, c sls.SealedColumn, after string, limit int) ([]sls.SealedValue, error) {
	if err := sealedColumn(c); err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, `SELECT `+c.ID+`, `+c.Column+` FROM `+c.Table+` WHERE `+c.ID+` > ? AND `+c.Column+` IS NOT NULL ORDER BY `+c.ID+` LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("sealed values", err)
	}
	out, err := collect(rows, func(s scanner) (sls.SealedValue, error) {
		var v sls.SealedValue
		err := s.Scan(&v.ID, &v.Sealed)
		return v, err
	})
	return out, err
}

func (t *tx) SwapSealed(ctx context.Context, c sls.SealedColumn, id string, old, new []byte) (bool, error) {
	if err := sealedColumn(c); err != nil {
		return false, err
	}
	res, err := t.exec(ctx, `UPDATE `+c.Table+` SET `+c.Column+` = ? WHERE `+c.ID+` = ? AND `+c.Column+` = ?`, new, id, old)
	if err != nil {
		return false, wrap("swap sealed", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("swap sealed", err)
}

func (t *tx) ResealCursors(ctx context.Context) ([]sls.ResealCursor, error) {
	rows, err := t.query(ctx, `SELECT col, after_id, done, resealed FROM reseal_cursors ORDER BY col`)
	if err != nil {
		return nil, wrap("reseal cursors", err)
	}
	return collect(rows, func(s scanner) (sls.ResealCursor, error) {
		var c sls.ResealCursor
		err := s.Scan(&c.Column, &c.After, &c.Done, &c.Resealed)
		return c, err
	})
}

func (t *tx) PutResealCursor(ctx context.Context, c sls.ResealCursor) error {
	_, err := t.exec(ctx, `INSERT INTO reseal_cursors (col, after_id, done, resealed) VALUES (?, ?, ?, ?)
		ON CONFLICT (col) DO UPDATE SET after_id = excluded.after_id, done = excluded.done, resealed = excluded.resealed`,
		c.Column, c.After, c.Done, c.Resealed)
	return wrap("put reseal cursor", err)
}

func (t *tx) DeleteResealCursors(ctx context.Context) error {
	_, err := t.exec(ctx, `DELETE FROM reseal_cursors`)
	return wrap("delete reseal cursors", err)
}

var _ sls.SealStore = (*tx)(nil)
