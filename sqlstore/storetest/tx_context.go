package storetest

import (
	"context"
	"errors"
	"testing"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("TxContextEnds", testTxContextEnds)
}

// testTxContextEnds: a write transaction whose context ends half-way
// (the request behind it went away) refuses its next statement with the
// context's error and writes nothing, and one whose context has already
// ended does not run at all. On SQLite a write transaction does not
// watch its context once begun (sqlstore's DB.begin): this is what keeps
// that safe.
func testTxContextEnds(t *testing.T, s sls.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	acct := &sls.Account{ID: "Uctxends", BaseCurrency: "USD", Jurisdiction: "US", CreatedAt: t0}
	u := &sls.User{ID: "usr_ctxends", Username: "ctxends", AccountID: acct.ID, PasswordHash: "$argon2id$x", CreatedAt: t0, Lang: "en"}
	err := s.Update(ctx, func(tx sls.Tx) error {
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		cancel()
		return tx.CreateUser(ctx, u)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("statement after the context ended: %v, want context.Canceled", err)
	}
	err = s.View(context.Background(), func(tx sls.Tx) error {
		_, err := tx.Account(context.Background(), acct.ID)
		return err
	})
	if !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("the account written before the context ended: %v, want it rolled back", err)
	}

	ran := false
	err = s.Update(ctx, func(tx sls.Tx) error { ran = true; return tx.CreateAccount(ctx, acct) })
	if err == nil || ran && !errors.Is(err, context.Canceled) {
		t.Fatalf("transaction on an ended context: ran %v, err %v", ran, err)
	}
}
