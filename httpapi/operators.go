package httpapi

import (
	"net/http"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/ratelimit"
)

// ForAnyOperator admits every operator, whatever their roles (their own
// token, the approvals they may decide).
var ForAnyOperator = sls.ForRoles(sls.AllRoles...)

// operatorAdminRoutes are the routes of operators themselves: the
// bootstrap, login and logout, the admin's operator management, and dual
// control.
func (a *API) operatorAdminRoutes() []Route {
	return []Route{
		Declare("POST /api/v1/ops/bootstrap", sls.ForAnyone, a.opBootstrap),
		// An operator's login session (scope operator, a device proven)
		// is traded for an operator token; a client's session is refused
		// by the handler (not an operator).
		Declare("POST /api/v1/ops/token", sls.ForSecondFactor.Also(sls.ScopeOperator), a.opToken),
		Declare("DELETE /api/v1/ops/token", ForAnyOperator, a.opLogout),
		Declare("GET /api/v1/ops/me", ForAnyOperator, a.opMe),
		Declare("GET /api/v1/ops/operators", sls.ForRoles(sls.RoleAdmin, sls.RoleAuditor), a.opOperators),
		Declare("POST /api/v1/ops/operators", sls.ForRoles(sls.RoleAdmin).WithApproval(operators.ActionOperatorAdd), a.opAddOperator),
		Declare("PUT /api/v1/ops/operators/{name}/roles", sls.ForRoles(sls.RoleAdmin).WithApproval(operators.ActionOperatorRoles), a.opSetRoles),
		Declare("POST /api/v1/ops/operators/{name}/disable", sls.ForRoles(sls.RoleAdmin).WithApproval(operators.ActionOperatorOff), a.opDisable(true)),
		Declare("POST /api/v1/ops/operators/{name}/enable", sls.ForRoles(sls.RoleAdmin).WithApproval(operators.ActionOperatorRoles), a.opDisable(false)),
		Declare("POST /api/v1/ops/operators/{name}/dscplus", sls.ForRoles(sls.RoleAdmin).WithApproval(operators.ActionOperatorKey), a.opOperatorDSCPlus),
		Declare("GET /api/v1/ops/approvals", ForAnyOperator, a.opApprovals),
		Declare("POST /api/v1/ops/approvals/{id}/approve", ForAnyOperator, a.opDecide(true)),
		Declare("POST /api/v1/ops/approvals/{id}/deny", ForAnyOperator, a.opDecide(false)),
	}
}

type bootstrapBody struct {
	Secret   string     `json:"secret" required:"true"`
	Name     string     `json:"name" required:"true"`
	Password string     `json:"password" required:"true"`
	Roles    []sls.Role `json:"roles" required:"true"`
	PIN      string     `json:"pin" required:"true"`
}

// opBootstrap creates the first operator with the one-time secret from
// the data directory. Anonymous, so limited per address like the
// operator API.
func (a *API) opBootstrap(w http.ResponseWriter, r *http.Request) {
	if err := a.Limiter.Take(r.Context(), ratelimit.OperatorAddress, ratelimit.AddressKey(ClientIP(r))); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	var b bootstrapBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	n := operators.NewOperator{Name: b.Name, Password: b.Password, Roles: b.Roles, PIN: b.PIN}
	tok, err := a.Operators.Bootstrap(r.Context(), b.Secret, n, a.DataDir, ClientIP(r))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	dev, path, err := a.operatorCard(r, operators.Actor(n.Name), n)
	a.Reply(w, r, http.StatusCreated, map[string]any{"token": tok.Token, "operator": tok.Operator, "expires_at": tok.ExpiresAt,
		"device": dev, "card_file": path}, err)
}

// operatorCard issues a new operator's DSC+ (active at once) and writes
// its card file to the card output directory.
func (a *API) operatorCard(r *http.Request, actor string, n operators.NewOperator) (*sls.Device, string, error) {
	out, err := a.Manage.IssueDSCPlus(r.Context(), actor, n.Name, "", n.PIN, true)
	if err != nil {
		return nil, "", err
	}
	path, err := a.Cards.WriteDSCPlus(out.Device.ID, out.Card)
	return out.Device, path, err
}

func (a *API) opToken(w http.ResponseWriter, r *http.Request) {
	if err := NoBody(w, r); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	tok, err := a.Operators.Exchange(r.Context(), SessionOf(r), ClientIP(r))
	a.Reply(w, r, http.StatusCreated, tok, err)
}

func (a *API) opLogout(w http.ResponseWriter, r *http.Request) {
	if err := NoBody(w, r); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	err := a.Operators.Logout(r.Context(), OperatorFrom(r), bearer(r))
	a.Reply(w, r, http.StatusOK, map[string]bool{"logged_out": true}, err)
}

func (a *API) opMe(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, OperatorFrom(r))
}

func (a *API) opOperators(w http.ResponseWriter, r *http.Request) {
	list, err := a.Operators.List(r.Context())
	a.Reply(w, r, http.StatusOK, map[string]any{"operators": list}, err)
}

func (a *API) opAddOperator(w http.ResponseWriter, r *http.Request) {
	var b operators.NewOperator
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	o, err := a.Operators.Add(r.Context(), OperatorActor(r), b)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	dev, path, err := a.operatorCard(r, OperatorActor(r), b)
	a.Reply(w, r, http.StatusCreated, map[string]any{"operator": o, "device": dev, "card_file": path}, err)
}

type rolesBody struct {
	Roles []sls.Role `json:"roles" required:"true"`
}

func (a *API) opSetRoles(w http.ResponseWriter, r *http.Request) {
	var b rolesBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	o, err := a.Operators.SetRoles(r.Context(), OperatorActor(r), OperatorOf(r), r.PathValue("name"), b.Roles)
	a.Reply(w, r, http.StatusOK, o, err)
}

func (a *API) opDisable(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := NoBody(w, r); err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		o, err := a.Operators.SetDisabled(r.Context(), OperatorActor(r), OperatorOf(r), r.PathValue("name"), disabled)
		a.Reply(w, r, http.StatusOK, o, err)
	}
}

type operatorDSCPlusBody struct {
	PIN    string `json:"pin" required:"true"`
	Serial string `json:"serial"`
}

// opOperatorDSCPlus gives an operator a DSC+, active at once; the card
// file goes to the card output directory, never into the answer.
func (a *API) opOperatorDSCPlus(w http.ResponseWriter, r *http.Request) {
	var b operatorDSCPlusBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	o, err := a.Operators.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	out, err := a.Manage.IssueDSCPlus(r.Context(), OperatorActor(r), o.Name, b.Serial, b.PIN, true)
	a.replyCard(w, r, out, err)
}

// replyCard writes an issued DSC+'s card file to the card output
// directory and answers with the device and the file's path.
func (a *API) replyCard(w http.ResponseWriter, r *http.Request, out *manage.IssuedDSCPlus, err error) {
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	path, err := a.Cards.WriteDSCPlus(out.Device.ID, out.Card)
	a.Reply(w, r, http.StatusCreated, map[string]any{"device": out.Device, "card_file": path}, err)
}

func (a *API) opApprovals(w http.ResponseWriter, r *http.Request) {
	list, err := a.Operators.Approvals(r.Context(), sls.ApprovalState(r.URL.Query().Get("state")))
	a.Reply(w, r, http.StatusOK, map[string]any{"approvals": list}, err)
}

func (a *API) opDecide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := NoBody(w, r); err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		ap, err := a.Operators.Decide(r.Context(), OperatorFrom(r), r.PathValue("id"), approve)
		a.Reply(w, r, http.StatusOK, ap, err)
	}
}
