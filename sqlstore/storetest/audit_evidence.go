package storetest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
)

func init() {
	Register("AuditCheckpoints", testAuditCheckpoints)
	Register("AuditStreamCursor", testAuditStreamCursor)
}

func testAuditCheckpoints(t *testing.T, s sls.Store) {
	_, priv, _ := ed25519.GenerateKey(nil)
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if seq, hash, err := tx.AuditHead(ctx); err != nil || seq != 0 || hash != audit.Genesis {
			return fmt.Errorf("empty head: %d %q %v", seq, hash, err)
		}
		if _, err := tx.LastAuditCheckpoint(ctx); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("no checkpoint yet: %v", err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		return sls.Audit(ctx, tx, t0, sls.ActorSystem, "test", "", "", nil)
	})
	Chain(t, s)
	var c audit.Checkpoint
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		seq, hash, err := tx.AuditHead(ctx)
		if err != nil || seq != 1 {
			return fmt.Errorf("head %d %v", seq, err)
		}
		c = audit.SignCheckpoint(priv, seq, hash, t0)
		return tx.AddAuditCheckpoint(ctx, c)
	})
	if err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.AddAuditCheckpoint(context.Background(), c) }); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("second checkpoint of one entry: %v", err)
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		last, err := tx.LastAuditCheckpoint(ctx)
		if err != nil || last.Seq != 1 || !last.At.Equal(c.At) || last.Verify(audit.Keys{c.KeyID: priv.Public().(ed25519.PublicKey)}) != nil {
			return fmt.Errorf("read back %+v %v", last, err)
		}
		list, err := tx.AuditCheckpoints(ctx, 0, 10)
		if err != nil || len(list) != 1 {
			return fmt.Errorf("list %v %v", list, err)
		}
		return nil
	})
}

func testAuditStreamCursor(t *testing.T, s sls.Store) {
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if e, c, err := tx.AuditStreamCursor(ctx, "siem"); err != nil || e != 0 || c != 0 {
			return fmt.Errorf("new stream: %d %d %v", e, c, err)
		}
		if err := tx.PutAuditStreamCursor(ctx, "siem", 5, 2); err != nil {
			return err
		}
		return tx.PutAuditStreamCursor(ctx, "siem", 9, 3)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if e, c, err := tx.AuditStreamCursor(ctx, "siem"); err != nil || e != 9 || c != 3 {
			return fmt.Errorf("cursor %d %d %v", e, c, err)
		}
		return nil
	})
}
