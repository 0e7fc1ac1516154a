package sqlstore

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
)

const documentCols = `id, user_id, client, file, kind, bytes, encrypted, delivered_at`

func scanDocument(s scanner) (*sls.Document, error) {
	var d sls.Document
	var at int64
	if err := s.Scan(&d.ID, &d.UserID, &d.Client, &d.File, &d.Kind, &d.Bytes, &d.Encrypted, &at); err != nil {
		return nil, err
	}
	d.DeliveredAt = fromMicro(at)
	return &d, nil
}

func (t *tx) PutDocument(ctx context.Context, d *sls.Document) error {
	// One statement both engines accept; RETURNING gives the id kept
	// when the row already existed.
	row := t.queryRow(ctx, `INSERT INTO documents (`+documentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (client, file) DO UPDATE SET user_id = excluded.user_id, kind = excluded.kind, bytes = excluded.bytes,
			encrypted = excluded.encrypted, delivered_at = excluded.delivered_at
		RETURNING id`,
		d.ID, d.UserID, d.Client, d.File, string(d.Kind), d.Bytes, d.Encrypted, d.DeliveredAt.UnixMicro())
	return wrap("put document", row.Scan(&d.ID))
}

func (t *tx) Documents(ctx context.Context, userID string) ([]*sls.Document, error) {
	rows, err := t.query(ctx, `SELECT `+documentCols+` FROM documents WHERE user_id = ? ORDER BY delivered_at DESC, file`, userID)
	if err != nil {
		return nil, wrap("documents", err)
	}
	return collect(rows, scanDocument)
}

func (t *tx) Document(ctx context.Context, userID, id string) (*sls.Document, error) {
	d, err := scanDocument(t.queryRow(ctx, `SELECT `+documentCols+` FROM documents WHERE id = ? AND user_id = ?`, id, userID))
	return d, wrap("document", err)
}

func (t *tx) DeleteDocumentsBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM documents WHERE delivered_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("delete documents", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete documents", err)
}
