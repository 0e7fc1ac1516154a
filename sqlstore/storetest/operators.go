package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("Operators", testOperators)
	Register("OperatorTokens", testOperatorTokens)
	Register("OperatorBootstrap", testOperatorBootstrap)
	Register("Approvals", testApprovals)
}

func operatorFixture(t *testing.T, s sls.Store, name string, roles ...sls.Role) *sls.Operator {
	t.Helper()
	u := Fixture(t, s, name)
	o := &sls.Operator{Name: name, UserID: u.ID, Roles: roles, CreatedAt: t0, CreatedBy: "system"}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateOperator(ctx, o) })
	return o
}

func testOperators(t *testing.T, s sls.Store) {
	operatorFixture(t, s, "olive", sls.RoleAuditor, sls.RoleClientServices)
	operatorFixture(t, s, "adam", sls.RoleAdmin)
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.CreateOperator(context.Background(), &sls.Operator{Name: "olive", UserID: "usr_x", Roles: []sls.Role{sls.RoleAdmin}, CreatedAt: t0})
	})
	if !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("second operator of one name: %v", err)
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		o, err := tx.OperatorForUpdate(ctx, "olive")
		if err != nil {
			return err
		}
		// Roles come back in the one order, whatever order they went in.
		if !slices.Equal(o.Roles, []sls.Role{sls.RoleClientServices, sls.RoleAuditor}) || o.Disabled() || !o.CreatedAt.Equal(t0) {
			return fmt.Errorf("got %+v", o)
		}
		o.Roles, o.DisabledAt = []sls.Role{sls.RoleShipping}, t0.Add(time.Hour)
		return tx.PutOperator(ctx, o)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.Operators(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "adam" || list[1].Name != "olive" {
			return fmt.Errorf("list %v %v", list, err)
		}
		if !list[1].Disabled() || !slices.Equal(list[1].Roles, []sls.Role{sls.RoleShipping}) {
			return fmt.Errorf("olive after put: %+v", list[1])
		}
		if n, err := tx.CountOperators(ctx); err != nil || n != 2 {
			return fmt.Errorf("count %d %v", n, err)
		}
		if _, err := tx.Operator(ctx, "nobody"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("unknown operator: %v", err)
		}
		return nil
	})
}

func testOperatorTokens(t *testing.T, s sls.Store) {
	operatorFixture(t, s, "olive", sls.RoleAuditor)
	operatorFixture(t, s, "adam", sls.RoleAdmin)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, ot := range []*sls.OperatorToken{
			{Hash: "h1", Operator: "olive", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
			{Hash: "h2", Operator: "olive", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)},
			{Hash: "h3", Operator: "adam", CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour)},
		} {
			if err := tx.AddOperatorToken(ctx, ot); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		ot, err := tx.OperatorToken(ctx, "h1")
		if err != nil || ot.Operator != "olive" || !ot.ExpiresAt.Equal(t0.Add(time.Hour)) {
			return fmt.Errorf("h1: %+v %v", ot, err)
		}
		if n, err := tx.DeleteExpiredOperatorTokens(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
			return fmt.Errorf("expired: %d %v", n, err)
		}
		if _, err := tx.OperatorToken(ctx, "h1"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("expired token still there: %v", err)
		}
		if n, err := tx.DeleteOperatorTokens(ctx, "olive"); err != nil || n != 1 {
			return fmt.Errorf("olive's tokens: %d %v", n, err)
		}
		if err := tx.DeleteOperatorToken(ctx, "h3"); err != nil {
			return err
		}
		if err := tx.DeleteOperatorToken(ctx, "h3"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("deleting twice: %v", err)
		}
		return nil
	})
}

func testOperatorBootstrap(t *testing.T, s sls.Store) {
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, _, err := tx.BootstrapSecret(ctx); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("before any: %v", err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutBootstrapSecret(ctx, "bh", t0) })
	if err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.PutBootstrapSecret(context.Background(), "other", t0) }); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("second secret: %v", err)
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		h, used, err := tx.BootstrapSecret(ctx)
		if err != nil || h != "bh" || !used.IsZero() {
			return fmt.Errorf("got %q %v %v", h, used, err)
		}
		return tx.SpendBootstrapSecret(ctx, "adam", t0.Add(time.Minute))
	})
	if err := s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.SpendBootstrapSecret(context.Background(), "eve", t0.Add(time.Hour))
	}); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("spending twice: %v", err)
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, used, err := tx.BootstrapSecret(ctx); err != nil || !used.Equal(t0.Add(time.Minute)) {
			return fmt.Errorf("spent at %v %v", used, err)
		}
		return nil
	})
}

func testApprovals(t *testing.T, s sls.Store) {
	a := &sls.Approval{ID: "apr_1", Action: "user.unlock", Method: "POST", Path: "/api/v1/ops/users/bob/unlock", RequestHash: "rh",
		Roles: []sls.Role{sls.RoleClientServices}, RequestedBy: "olive", CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute), State: sls.ApprovalPending}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.CreateApproval(ctx, a); err != nil {
			return err
		}
		b := *a
		b.ID, b.CreatedAt = "apr_2", t0.Add(time.Minute)
		return tx.CreateApproval(ctx, &b)
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.ApprovalForUpdate(ctx, "apr_1")
		if err != nil || got.RequestHash != "rh" || got.State != sls.ApprovalPending || !got.ExpiresAt.Equal(a.ExpiresAt) || !got.DecidedAt.IsZero() {
			return fmt.Errorf("got %+v %v", got, err)
		}
		got.State, got.DecidedBy, got.DecidedAt = sls.ApprovalApproved, "adam", t0.Add(2*time.Minute)
		return tx.PutApproval(ctx, got)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		pending, err := tx.Approvals(ctx, sls.ApprovalPending, 10)
		if err != nil || len(pending) != 1 || pending[0].ID != "apr_2" {
			return fmt.Errorf("pending %v %v", pending, err)
		}
		all, err := tx.Approvals(ctx, "", 10)
		if err != nil || len(all) != 2 || all[0].ID != "apr_2" || all[1].DecidedBy != "adam" {
			return fmt.Errorf("all %v %v", all, err)
		}
		return nil
	})
}
