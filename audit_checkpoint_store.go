package sls

import (
	"context"

	"github.com/secure-login-system/sls/audit"
)

// AuditEvidenceStore keeps the audit chain's signed checkpoints and the
// cursors of its streams.
type AuditEvidenceStore interface {
	// AuditHead returns the sequence and hash of the chain's last entry
	// (0 and audit.Genesis for an empty trail).
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
	// AddAuditCheckpoint stores a checkpoint; ErrConflict when one exists
	// for that entry.
	AddAuditCheckpoint(ctx context.Context, c audit.Checkpoint) error
	// AuditCheckpoints returns up to limit checkpoints with Seq > after,
	// in order.
	AuditCheckpoints(ctx context.Context, after int64, limit int) ([]audit.Checkpoint, error)
	// LastAuditCheckpoint returns the checkpoint of the highest entry
	// (ErrNotFound when none).
	LastAuditCheckpoint(ctx context.Context) (audit.Checkpoint, error)
	// AuditStreamCursor returns how far the stream name has delivered
	// (zeros for a new stream); PutAuditStreamCursor records it.
	AuditStreamCursor(ctx context.Context, name string) (entriesAfter, checkpointsAfter int64, err error)
	PutAuditStreamCursor(ctx context.Context, name string, entriesAfter, checkpointsAfter int64) error
}
