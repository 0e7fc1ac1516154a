package sqlstore

import (
	"context"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

// zmicro stores a time whose zero means "not yet" as 0.
func zmicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromZMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicro(us)
}

func rolesFromText(s string) []sls.Role {
	var out []sls.Role
	for _, r := range strings.Split(s, ",") {
		if r != "" {
			out = append(out, sls.Role(r))
		}
	}
	return sls.NormalizeRoles(out)
}

const operatorCols = `name, user_id, roles, created_at, created_by, disabled_at, mac`

func scanOperator(s scanner) (*sls.Operator, error) {
	var o sls.Operator
	var roles string
	var created, disabled int64
	if err := s.Scan(&o.Name, &o.UserID, &roles, &created, &o.CreatedBy, &disabled, &o.MAC); err != nil {
		return nil, err
	}
	o.Roles, o.CreatedAt, o.DisabledAt = rolesFromText(roles), fromMicro(created), fromZMicro(disabled)
	return &o, nil
}

func (t *tx) CreateOperator(ctx context.Context, o *sls.Operator) error {
	_, err := t.exec(ctx, `INSERT INTO operators (`+operatorCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		o.Name, o.UserID, sls.RolesString(o.Roles), o.CreatedAt.UnixMicro(), o.CreatedBy, zmicro(o.DisabledAt), o.MAC)
	return wrap("create operator", err)
}

func (t *tx) Operator(ctx context.Context, name string) (*sls.Operator, error) {
	o, err := scanOperator(t.queryRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE name = ?`, name))
	return o, wrap("operator", err)
}

func (t *tx) OperatorForUpdate(ctx context.Context, name string) (*sls.Operator, error) {
	o, err := scanOperator(t.queryRow(ctx, `SELECT `+operatorCols+` FROM operators WHERE name = ?`+t.forUpdate(), name))
	return o, wrap("operator", err)
}

func (t *tx) Operators(ctx context.Context) ([]*sls.Operator, error) {
	rows, err := t.query(ctx, `SELECT `+operatorCols+` FROM operators ORDER BY name`)
	if err != nil {
		return nil, wrap("operators", err)
	}
	return collect(rows, scanOperator)
}

func (t *tx) PutOperator(ctx context.Context, o *sls.Operator) error {
	res, err := t.exec(ctx, `UPDATE operators SET roles = ?, disabled_at = ?, mac = ? WHERE name = ?`,
		sls.RolesString(o.Roles), zmicro(o.DisabledAt), o.MAC, o.Name)
	return mustAffect("put operator", res, err)
}

func (t *tx) CountOperators(ctx context.Context) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n)
	return n, wrap("count operators", err)
}

func (t *tx) AddOperatorToken(ctx context.Context, ot *sls.OperatorToken) error {
	_, err := t.exec(ctx, `INSERT INTO operator_tokens (token_hash, operator, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		ot.Hash, ot.Operator, ot.CreatedAt.UnixMicro(), ot.ExpiresAt.UnixMicro())
	return wrap("add operator token", err)
}

func (t *tx) OperatorToken(ctx context.Context, tokenHash string) (*sls.OperatorToken, error) {
	var ot sls.OperatorToken
	var created, expires int64
	err := t.queryRow(ctx, `SELECT token_hash, operator, created_at, expires_at FROM operator_tokens WHERE token_hash = ?`, tokenHash).
		Scan(&ot.Hash, &ot.Operator, &created, &expires)
	if err != nil {
		return nil, wrap("operator token", err)
	}
	ot.CreatedAt, ot.ExpiresAt = fromMicro(created), fromMicro(expires)
	return &ot, nil
}

func (t *tx) DeleteOperatorTokens(ctx context.Context, operator string) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM operator_tokens WHERE operator = ?`, operator)
	if err != nil {
		return 0, wrap("delete operator tokens", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete operator tokens", err)
}

func (t *tx) DeleteOperatorToken(ctx context.Context, tokenHash string) error {
	res, err := t.exec(ctx, `DELETE FROM operator_tokens WHERE token_hash = ?`, tokenHash)
	return mustAffect("delete operator token", res, err)
}

func (t *tx) DeleteExpiredOperatorTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM operator_tokens WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, wrap("delete expired operator tokens", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete expired operator tokens", err)
}

func (t *tx) PutBootstrapSecret(ctx context.Context, secretHash string, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO operator_bootstrap (id, secret_hash, created_at) VALUES (1, ?, ?)`, secretHash, at.UnixMicro())
	return wrap("put bootstrap secret", err)
}

func (t *tx) BootstrapSecret(ctx context.Context) (string, time.Time, error) {
	var hash string
	var used int64
	err := t.queryRow(ctx, `SELECT secret_hash, used_at FROM operator_bootstrap WHERE id = 1`).Scan(&hash, &used)
	if err != nil {
		return "", time.Time{}, wrap("bootstrap secret", err)
	}
	return hash, fromZMicro(used), nil
}

func (t *tx) SpendBootstrapSecret(ctx context.Context, by string, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE operator_bootstrap SET used_at = ?, used_by = ? WHERE id = 1 AND used_at = 0`, at.UnixMicro(), by)
	if err := mustAffect("spend bootstrap secret", res, err); err != nil {
		if err == sls.ErrNotFound {
			return sls.ErrConflict
		}
		return err
	}
	return nil
}

const approvalCols = `id, action, method, path, request_hash, roles, requested_by, created_at, expires_at, decided_by, decided_at, state, used_at, mac`

func scanApproval(s scanner) (*sls.Approval, error) {
	var a sls.Approval
	var roles, state string
	var created, expires, decided, used int64
	if err := s.Scan(&a.ID, &a.Action, &a.Method, &a.Path, &a.RequestHash, &roles, &a.RequestedBy, &created, &expires,
		&a.DecidedBy, &decided, &state, &used, &a.MAC); err != nil {
		return nil, err
	}
	a.Roles, a.State = rolesFromText(roles), sls.ApprovalState(state)
	a.CreatedAt, a.ExpiresAt, a.DecidedAt, a.UsedAt = fromMicro(created), fromMicro(expires), fromZMicro(decided), fromZMicro(used)
	return &a, nil
}

func (t *tx) CreateApproval(ctx context.Context, a *sls.Approval) error {
	_, err := t.exec(ctx, `INSERT INTO approvals (`+approvalCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Action, a.Method, a.Path, a.RequestHash, sls.RolesString(a.Roles), a.RequestedBy, a.CreatedAt.UnixMicro(),
		a.ExpiresAt.UnixMicro(), a.DecidedBy, zmicro(a.DecidedAt), string(a.State), zmicro(a.UsedAt), a.MAC)
	return wrap("create approval", err)
}

func (t *tx) ApprovalForUpdate(ctx context.Context, id string) (*sls.Approval, error) {
	a, err := scanApproval(t.queryRow(ctx, `SELECT `+approvalCols+` FROM approvals WHERE id = ?`+t.forUpdate(), id))
	return a, wrap("approval", err)
}

func (t *tx) PutApproval(ctx context.Context, a *sls.Approval) error {
	res, err := t.exec(ctx, `UPDATE approvals SET decided_by = ?, decided_at = ?, state = ?, used_at = ?, expires_at = ?, mac = ? WHERE id = ?`,
		a.DecidedBy, zmicro(a.DecidedAt), string(a.State), zmicro(a.UsedAt), a.ExpiresAt.UnixMicro(), a.MAC, a.ID)
	return mustAffect("put approval", res, err)
}

func (t *tx) Approvals(ctx context.Context, state sls.ApprovalState, limit int) ([]*sls.Approval, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q, args := `SELECT `+approvalCols+` FROM approvals`, []any{}
	if state != "" {
		q += ` WHERE state = ?`
		args = append(args, string(state))
	}
	rows, err := t.query(ctx, q+` ORDER BY created_at DESC, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, wrap("approvals", err)
	}
	return collect(rows, scanApproval)
}

var _ sls.OperatorStore = (*tx)(nil)
