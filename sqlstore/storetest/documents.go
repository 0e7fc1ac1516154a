package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() { Register("Documents", testDocuments) }

// testDocuments: a user sees only its own documents, newest first; a
// redelivery of the same file keeps one row and its id; the purge
// forgets what it removed.
func testDocuments(t *testing.T, s sls.Store) {
	alice, bob := Fixture(t, s, "docalice"), Fixture(t, s, "docbob")
	doc := func(id, user, file string, kind sls.DocumentKind, at time.Time) *sls.Document {
		return &sls.Document{ID: id, UserID: user, Client: "folder-" + user, File: file, Kind: kind, Bytes: 1234, Encrypted: kind == sls.DocTaxForm, DeliveredAt: at}
	}
	a1 := doc("doc_a1", alice.ID, "2025-12.pdf", sls.DocStatement, t0)
	a2 := doc("doc_a2", alice.ID, "1099-2025.pdf", sls.DocTaxForm, t0.Add(time.Hour))
	b1 := doc("doc_b1", bob.ID, "2025-12.pdf", sls.DocStatement, t0)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, d := range []*sls.Document{a1, a2, b1} {
			if err := tx.PutDocument(ctx, d); err != nil {
				return err
			}
		}
		// Delivered again under the same name: one row, the first id.
		again := doc("doc_new", alice.ID, "2025-12.pdf", sls.DocStatement, t0.Add(2*time.Hour))
		again.Bytes = 999
		if err := tx.PutDocument(ctx, again); err != nil {
			return err
		}
		if again.ID != "doc_a1" {
			return fmt.Errorf("redelivery got id %s, want the first one's", again.ID)
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.Documents(ctx, alice.ID)
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].ID != "doc_a1" || list[0].Bytes != 999 || !list[0].DeliveredAt.Equal(t0.Add(2*time.Hour)) ||
			list[1].ID != "doc_a2" || list[1].Kind != sls.DocTaxForm || !list[1].Encrypted || list[1].Client != "folder-"+alice.ID {
			return fmt.Errorf("alice's documents: %+v", list)
		}
		if _, err := tx.Document(ctx, alice.ID, "doc_b1"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("another user's document: %v, want not found", err)
		}
		if d, err := tx.Document(ctx, bob.ID, "doc_b1"); err != nil || d.File != "2025-12.pdf" {
			return fmt.Errorf("bob's document: %+v, %v", d, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		n, err := tx.DeleteDocumentsBefore(ctx, t0.Add(90*time.Minute))
		if err != nil || n != 2 {
			return fmt.Errorf("purge: %d, %v; want 2", n, err)
		}
		list, err := tx.Documents(ctx, alice.ID)
		if err != nil || len(list) != 1 || list[0].ID != "doc_a1" {
			return fmt.Errorf("after the purge: %+v, %v", list, err)
		}
		return nil
	})
}
