package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("SealKeys", testSealKeys)
	Register("SealedValuesSwap", testSealedValuesSwap)
}

func testSealKeys(t *testing.T, s sls.Store) {
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.PutSealKey(ctx, sls.SealKey{ID: 1, State: sls.SealKeyActive, CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.PutSealKey(ctx, sls.SealKey{ID: 2, Wrapped: []byte{1, 2, 3}, State: sls.SealKeyActive, CreatedAt: t0}); err != nil {
			return err
		}
		return tx.PutSealKey(ctx, sls.SealKey{ID: 1, State: sls.SealKeyRetired, CreatedAt: t0, RetiringAt: t0.Add(time.Minute), RetiredAt: t0.Add(time.Hour)})
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		ks, err := tx.SealKeys(ctx)
		if err != nil || len(ks) != 2 || ks[0].State != sls.SealKeyRetired || !ks[0].RetiredAt.Equal(t0.Add(time.Hour)) ||
			ks[1].ID != 2 || !bytes.Equal(ks[1].Wrapped, []byte{1, 2, 3}) {
			return fmt.Errorf("keys %+v %v", ks, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.PutResealCursor(ctx, sls.ResealCursor{Column: "devices.secret", After: "dev_5", Resealed: 3}); err != nil {
			return err
		}
		if err := tx.PutResealCursor(ctx, sls.ResealCursor{Column: "devices.secret", After: "dev_9", Done: true, Resealed: 4}); err != nil {
			return err
		}
		cs, err := tx.ResealCursors(ctx)
		if err != nil || len(cs) != 1 || cs[0].After != "dev_9" || !cs[0].Done || cs[0].Resealed != 4 {
			return fmt.Errorf("cursors %+v %v", cs, err)
		}
		if err := tx.DeleteResealCursors(ctx); err != nil {
			return err
		}
		cs, err = tx.ResealCursors(ctx)
		if err != nil || len(cs) != 0 {
			return fmt.Errorf("after delete %+v %v", cs, err)
		}
		return nil
	})
}

func testSealedValuesSwap(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "sealy")
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for i, sec := range [][]byte{{1, 1}, {2, 2}, nil} {
			d := &sls.Device{ID: fmt.Sprintf("dev_s%d", i), UserID: u.ID, Kind: sls.KindCodeCard, State: sls.StateActive, Serial: fmt.Sprintf("S%d", i),
				Secret: sec, CreatedAt: t0}
			if err := tx.CreateDevice(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	col := sls.SealedColumn{Table: "devices", ID: "id", Column: "secret"}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		vs, err := tx.SealedValues(ctx, col, "", 10)
		if err != nil || len(vs) != 2 || vs[0].ID != "dev_s0" || !bytes.Equal(vs[1].Sealed, []byte{2, 2}) {
			return fmt.Errorf("values %+v %v", vs, err)
		}
		if vs, err := tx.SealedValues(ctx, col, "dev_s0", 10); err != nil || len(vs) != 1 {
			return fmt.Errorf("after dev_s0: %+v %v", vs, err)
		}
		if ok, err := tx.SwapSealed(ctx, col, "dev_s0", []byte{9, 9}, []byte{3, 3}); err != nil || ok {
			return fmt.Errorf("swap over a changed value: %v %v", ok, err)
		}
		if ok, err := tx.SwapSealed(ctx, col, "dev_s0", []byte{1, 1}, []byte{3, 3}); err != nil || !ok {
			return fmt.Errorf("swap: %v %v", ok, err)
		}
		if _, err := tx.SealedValues(ctx, sls.SealedColumn{Table: "users; DROP TABLE users", ID: "id", Column: "x"}, "", 1); err == nil {
			return fmt.Errorf("a column off the list was read")
		}
		return nil
	})
}
