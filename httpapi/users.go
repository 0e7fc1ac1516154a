package httpapi

import (
	"net/http"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/ratelimit"
)

// userLifecycleRoutes: operators change, disable, enable and delete users
// and start password resets; users change their password and finish a
// reset.
func (a *API) userLifecycleRoutes() []Route {
	return []Route{
		Declare("PATCH /api/v1/ops/users/{user}", sls.ForRoles(sls.RoleClientServices), a.opUpdateUser),
		Declare("POST /api/v1/ops/users/{user}/disable", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam), a.opSetUserDisabled(true)),
		Declare("POST /api/v1/ops/users/{user}/enable", sls.ForRoles(sls.RoleClientServices).WithApproval(operators.ActionUnlock), a.opSetUserDisabled(false)),
		Declare("DELETE /api/v1/ops/users/{user}", sls.ForRoles(sls.RoleClientServices).WithApproval(operators.ActionUserDelete), a.opDeleteUser),
		Declare("POST /api/v1/ops/users/{user}/password-reset", sls.ForRoles(sls.RoleClientServices), a.opPasswordReset),
		Declare("PUT /api/v1/password", sls.ForStepUp, a.changePassword),
		Declare("POST /api/v1/password/reset", sls.ForAnyone, a.completePasswordReset),
	}
}

func (a *API) opUpdateUser(w http.ResponseWriter, r *http.Request) {
	var b manage.UserUpdate
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	u, err := a.Manage.UpdateUser(r.Context(), OperatorActor(r), r.PathValue("user"), b)
	a.Reply(w, r, http.StatusOK, u, err)
}

type reasonBody struct {
	Reason string `json:"reason" required:"true"`
}

func (a *API) opSetUserDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b reasonBody
		if err := Decode(w, r, &b); err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		u, err := a.Manage.SetUserDisabled(r.Context(), OperatorActor(r), r.PathValue("user"), b.Reason, disabled)
		a.Reply(w, r, http.StatusOK, u, err)
	}
}

func (a *API) opDeleteUser(w http.ResponseWriter, r *http.Request) {
	var b reasonBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	u, err := a.Manage.DeleteUser(r.Context(), OperatorActor(r), r.PathValue("user"), b.Reason)
	a.Reply(w, r, http.StatusOK, u, err)
}

func (a *API) opPasswordReset(w http.ResponseWriter, r *http.Request) {
	var b tempPasscodeBody // identity_verification
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	sent, err := a.Manage.StartPasswordReset(r.Context(), OperatorActor(r), r.PathValue("user"), b.IdentityVerification)
	a.Reply(w, r, http.StatusCreated, sent, err)
}

type changePasswordBody struct {
	CurrentPassword string `json:"current_password" required:"true"`
	NewPassword     string `json:"new_password" required:"true"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) {
	var b changePasswordBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	err := a.Manage.ChangePassword(r.Context(), SessionOf(r), b.CurrentPassword, b.NewPassword, ClientIP(r))
	a.Reply(w, r, http.StatusOK, map[string]bool{"changed": true}, err)
}

type resetBody struct {
	Username    string `json:"username" required:"true"`
	Code        string `json:"code" required:"true"`
	NewPassword string `json:"new_password" required:"true"`
}

// completePasswordReset is anonymous: limited per address like password
// checks, before anything is looked at.
func (a *API) completePasswordReset(w http.ResponseWriter, r *http.Request) {
	if err := a.Limiter.Take(r.Context(), ratelimit.PasswordAddress, ratelimit.AddressKey(ClientIP(r))); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	var b resetBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	err := a.Manage.CompletePasswordReset(r.Context(), b.Username, b.Code, b.NewPassword, ClientIP(r))
	a.Reply(w, r, http.StatusOK, map[string]bool{"reset": true}, err)
}
