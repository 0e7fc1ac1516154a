package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/ratelimit"
)

// ApprovalHeader carries the id of the approval an operator presents for
// a request under dual control.
const ApprovalHeader = "X-SLS-Approval"

// operator admits an operator holding one of the roles rt names, keeps
// dual control for the action it performs, and audits reads.
func (a *API) operator(rt Route, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Limited before the token is looked at, so the limit also
		// bounds token guessing.
		if err := a.Limiter.Take(r.Context(), ratelimit.OperatorAddress, ratelimit.AddressKey(ClientIP(r))); err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		if a.Operators == nil {
			WriteError(w, r, a.Log, sls.ErrUnauthenticated)
			return
		}
		op, err := a.Operators.Authenticate(r.Context(), bearer(r))
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		if !rt.Access.AdmitsOperator(op.Roles) {
			// Refusals are audited: an operator probing outside their
			// rights is what the Security Team looks for.
			a.auditOperator(r, op, operators.EventRefused, "", map[string]any{"route": rt.Pattern, "path": r.URL.Path})
			WriteError(w, r, a.Log, sls.Errorf(sls.CodeForbidden, "This needs one of the roles %s.", sls.RolesText(rt.Access.Roles)).
				WithDetail("roles", sls.RolesString(rt.Access.Roles)))
			return
		}
		target, err := a.operatorTarget(r)
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		if a.Operators.NeedsApproval(rt.Access.Approval) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
			if err != nil {
				WriteError(w, r, a.Log, sls.Errorf(sls.CodeBodyTooLarge, "The request body is too large."))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			// A malformed body is refused before an approval is asked
			// for: a second operator must never be asked to approve
			// garbage, and garbage must change nothing (not even the
			// approvals table).
			if !rt.Raw {
				if err := wellFormed(body); err != nil {
					WriteError(w, r, a.Log, err)
					return
				}
			}
			if err := a.Operators.Gate(r.Context(), operators.Request{Operator: op, Action: rt.Access.Approval, Roles: rt.Access.Roles,
				Method: r.Method, Path: r.URL.RequestURI(), Body: body, ApprovalID: r.Header.Get(ApprovalHeader)}); err != nil {
				WriteError(w, r, a.Log, err)
				return
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), operatorKey, op))
		if r.Method != http.MethodGet {
			h(w, r)
			return
		}
		// Reads of client data by operators are audited, refused ones too
		// (OWASP ASVS 4.0.3 V7.1.3).
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		h(rec, r)
		a.auditOperator(r, op, operators.EventRead, target, map[string]any{"route": rt.Pattern, "path": r.URL.Path, "status": rec.status})
	})
}

// auditOperator records what an operator did outside a handler's own
// audit (reads, refusals).
func (a *API) auditOperator(r *http.Request, op *sls.Operator, event, userID string, detail map[string]any) {
	ctx := context.WithoutCancel(r.Context())
	err := a.Store.Update(ctx, func(tx sls.Tx) error {
		return sls.Audit(ctx, tx, a.Operators.Clock.Now(), operators.Actor(op.Name), event, userID, "", detail)
	})
	if err != nil {
		a.Log.ErrorContext(r.Context(), "auditing an operator request", "event", event, "err", err)
	}
}

// operatorTarget returns the id of the user an operator route acts on
// ({user} in the path, or the owner of {id} on device routes), and
// refuses operators' own credentials as targets: Client Services must
// not unlock, reissue or end the sessions of an operator through the
// client tools (that is the admin's operator API, under dual control).
func (a *API) operatorTarget(r *http.Request) (string, error) {
	name := r.PathValue("user")
	var deviceID string
	if name == "" && strings.Contains(r.Pattern, "/ops/devices/{id}") {
		deviceID = r.PathValue("id")
	}
	if name == "" && deviceID == "" {
		return "", nil
	}
	var u *sls.User
	err := a.Store.View(r.Context(), func(tx sls.Tx) error {
		var err error
		if deviceID != "" {
			d, err := tx.Device(r.Context(), deviceID)
			if err != nil {
				return err
			}
			u, err = tx.User(r.Context(), d.UserID)
			return err
		}
		u, err = tx.UserByUsername(r.Context(), login.NormalizeUsername(name))
		return err
	})
	if errors.Is(err, sls.ErrNotFound) {
		return "", nil // the handler says what is missing
	}
	if err != nil {
		return "", err
	}
	if u.AccountID == sls.OperatorsAccount {
		if deviceID != "" {
			return "", sls.Errorf(sls.CodeNotFound, "No device %q.", deviceID)
		}
		return "", sls.Errorf(sls.CodeNotFound, "No user %q.", name)
	}
	return u.ID, nil
}
