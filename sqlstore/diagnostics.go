package sqlstore

import (
	"context"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

const diagnosticCols = `ref, username, user_id, reason, archive_kind, archive_bytes, archive_entries, uncompressed_bytes, screenshots, created_at, ticket_id, closed_at, closed_by`

func scanDiagnostic(s scanner) (*sls.Diagnostic, error) {
	var d sls.Diagnostic
	var shots string
	var created, closed int64
	err := s.Scan(&d.Ref, &d.Username, &d.UserID, &d.Reason, &d.ArchiveKind, &d.ArchiveBytes, &d.ArchiveEntries, &d.UncompressedBytes,
		&shots, &created, &d.TicketID, &closed, &d.ClosedBy)
	d.Screenshots = []string{}
	if shots != "" {
		// The names are ours ("screenshot-1.png"): they hold no comma.
		d.Screenshots = strings.Split(shots, ",")
	}
	d.CreatedAt, d.ClosedAt = fromMicro(created), fromZMicro(closed)
	return &d, err
}

func (t *tx) CreateDiagnostic(ctx context.Context, d *sls.Diagnostic) error {
	_, err := t.exec(ctx, `INSERT INTO diagnostics (`+diagnosticCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Ref, d.Username, d.UserID, d.Reason, d.ArchiveKind, d.ArchiveBytes, d.ArchiveEntries, d.UncompressedBytes,
		strings.Join(d.Screenshots, ","), d.CreatedAt.UnixMicro(), d.TicketID, zmicro(d.ClosedAt), d.ClosedBy)
	return wrap("create diagnostic", err)
}

func (t *tx) Diagnostic(ctx context.Context, ref string) (*sls.Diagnostic, error) {
	d, err := scanDiagnostic(t.queryRow(ctx, `SELECT `+diagnosticCols+` FROM diagnostics WHERE ref = ?`, ref))
	if err != nil {
		return nil, wrap("diagnostic", err)
	}
	return d, nil
}

func (t *tx) DiagnosticForUpdate(ctx context.Context, ref string) (*sls.Diagnostic, error) {
	d, err := scanDiagnostic(t.queryRow(ctx, `SELECT `+diagnosticCols+` FROM diagnostics WHERE ref = ?`+t.forUpdate(), ref))
	if err != nil {
		return nil, wrap("diagnostic", err)
	}
	return d, nil
}

func (t *tx) PutDiagnostic(ctx context.Context, d *sls.Diagnostic) error {
	res, err := t.exec(ctx, `UPDATE diagnostics SET ticket_id = ?, closed_at = ?, closed_by = ? WHERE ref = ?`,
		d.TicketID, zmicro(d.ClosedAt), d.ClosedBy, d.Ref)
	return mustAffect("put diagnostic", res, err)
}

func (t *tx) Diagnostics(ctx context.Context, f sls.DiagnosticFilter) ([]*sls.Diagnostic, error) {
	q := `SELECT ` + diagnosticCols + ` FROM diagnostics`
	switch f.State {
	case "open":
		q += ` WHERE closed_at = 0`
	case "closed":
		q += ` WHERE closed_at <> 0`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.query(ctx, q+` ORDER BY created_at DESC, ref LIMIT ?`, limit)
	if err != nil {
		return nil, wrap("diagnostics", err)
	}
	return collect(rows, scanDiagnostic)
}

// diagnosticsLockSpace keeps the advisory locks of usernames apart from
// the migration lock and any other use of pg_advisory_xact_lock.
const diagnosticsLockSpace = 7365730033

func (t *tx) CountDiagnostics(ctx context.Context, username string, since time.Time) (int, error) {
	if t.engine == Postgres {
		// No row to lock exists before the first bundle, so the lock is
		// on the name; it ends with the transaction. SQLite has one writer.
		if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, ?))`, username, diagnosticsLockSpace); err != nil {
			return 0, wrap("lock diagnostics username", err)
		}
	}
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM diagnostics WHERE username = ? AND created_at >= ?`, username, since.UnixMicro()).Scan(&n)
	return n, wrap("count diagnostics", err)
}

func (t *tx) DiagnosticsBefore(ctx context.Context, before time.Time, limit int) ([]string, error) {
	rows, err := t.query(ctx, `SELECT ref FROM diagnostics WHERE created_at < ? ORDER BY created_at LIMIT ?`, before.UnixMicro(), limit)
	if err != nil {
		return nil, wrap("diagnostics before", err)
	}
	return collect(rows, func(s scanner) (string, error) {
		var ref string
		err := s.Scan(&ref)
		return ref, err
	})
}

func (t *tx) DeleteDiagnostic(ctx context.Context, ref string) error {
	_, err := t.exec(ctx, `DELETE FROM diagnostics WHERE ref = ?`, ref)
	return wrap("delete diagnostic", err)
}

func (t *tx) CreateTicket(ctx context.Context, tk *sls.Ticket) error {
	_, err := t.exec(ctx, `INSERT INTO tickets (id, user_id, subject, body_sealed, diagnostic_ref, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		tk.ID, tk.UserID, tk.Subject, tk.SealedBody, tk.Diagnostic, tk.CreatedAt.UnixMicro())
	return wrap("create ticket", err)
}

func (t *tx) Tickets(ctx context.Context, userID string) ([]*sls.Ticket, error) {
	rows, err := t.query(ctx, `SELECT id, user_id, subject, body_sealed, diagnostic_ref, created_at FROM tickets WHERE user_id = ? ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, wrap("tickets", err)
	}
	return collect(rows, func(s scanner) (*sls.Ticket, error) {
		var tk sls.Ticket
		var created int64
		err := s.Scan(&tk.ID, &tk.UserID, &tk.Subject, &tk.SealedBody, &tk.Diagnostic, &created)
		tk.CreatedAt = fromMicro(created)
		return &tk, err
	})
}

var _ sls.DiagnosticStore = (*tx)(nil)
