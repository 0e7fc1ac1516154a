package httpapi

import (
	"net/http"
	"strconv"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
	"github.com/secure-login-system/sls/codecard"
	"github.com/secure-login-system/sls/manage"
)

func (a *API) operatorRoutes() []Route {
	return []Route{
		Declare("POST /api/v1/ops/accounts", sls.ForRoles(sls.RoleClientServices), a.opCreateAccount),
		Declare("POST /api/v1/ops/users", sls.ForRoles(sls.RoleClientServices), a.opCreateUser),
		Declare("GET /api/v1/ops/users/{user}", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam, sls.RoleAuditor), a.opGetUser),
		Declare("GET /api/v1/ops/users/{user}/devices", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam, sls.RoleAuditor), a.opDevices),
		Declare("POST /api/v1/ops/users/{user}/dscplus", sls.ForRoles(sls.RoleSecurityTeam), a.opIssueDSCPlus),
		Declare("POST /api/v1/ops/users/{user}/codecard", sls.ForRoles(sls.RoleSecurityTeam), a.opIssueCodeCard),
		Declare("POST /api/v1/ops/users/{user}/temppasscode", sls.ForRoles(sls.RoleClientServices).WithApproval("temppasscode.issue"), a.opIssueTempPasscode),
		Declare("POST /api/v1/ops/users/{user}/unlock", sls.ForRoles(sls.RoleClientServices).WithApproval("user.unlock"), a.opUnlock),
		Declare("POST /api/v1/ops/users/{user}/lock", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam), a.opLock),
		Declare("GET /api/v1/ops/users/{user}/sessions", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam, sls.RoleAuditor), a.opSessions),
		Declare("DELETE /api/v1/ops/users/{user}/sessions", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam), a.opEndSessions),
		Declare("DELETE /api/v1/ops/users/{user}/sessions/{id}", sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam), a.opEndSessions),
		Declare("POST /api/v1/ops/devices/{id}/{action}", sls.ForRoles(sls.RoleSecurityTeam), a.opDeviceAction),
		Declare("GET /api/v1/ops/audit", sls.ForRoles(sls.RoleAuditor, sls.RoleSecurityTeam), a.opAudit),
	}
}

// OperatorActor is the audit actor of a request handled by Operator.
func OperatorActor(r *http.Request) string { return sls.ActorOperator(OperatorOf(r)) }

func (a *API) opCreateAccount(w http.ResponseWriter, r *http.Request) {
	var b manage.NewAccount
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	acct, err := a.Manage.CreateAccount(r.Context(), OperatorActor(r), b)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusCreated, acct)
}

func (a *API) opCreateUser(w http.ResponseWriter, r *http.Request) {
	var b manage.NewUser
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	u, err := a.Manage.CreateUser(r.Context(), OperatorActor(r), b)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusCreated, u)
}

func (a *API) opGetUser(w http.ResponseWriter, r *http.Request) {
	u, err := a.Manage.UserByName(r.Context(), r.PathValue("user"))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, u)
}

func (a *API) opDevices(w http.ResponseWriter, r *http.Request) {
	u, err := a.Manage.UserByName(r.Context(), r.PathValue("user"))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	list, err := a.Manage.Devices(r.Context(), u.ID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"user": u.Username, "devices": list})
}

func (a *API) opIssueDSCPlus(w http.ResponseWriter, r *http.Request) {
	var b manage.DSCPlusIssue
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	b.Username = r.PathValue("user")
	out, err := a.Manage.IssueDSCPlusChecked(r.Context(), OperatorActor(r), b)
	a.replyCard(w, r, out, err)
}

func (a *API) opIssueCodeCard(w http.ResponseWriter, r *http.Request) {
	out, err := a.Manage.IssueCodeCard(r.Context(), OperatorActor(r), r.PathValue("user"))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	// The card's values go to the card output directory, for printing;
	// never into the answer.
	path, err := a.Cards.WriteCodeCard(out.Device.ID, codecard.RenderText(out.Card, codecard.SecurityCodeCard.Name, out.Device.Serial))
	a.Reply(w, r, http.StatusCreated, map[string]any{"device": out.Device, "card_file": path}, err)
}

type tempPasscodeBody struct {
	IdentityVerification string `json:"identity_verification" required:"true"`
}

func (a *API) opIssueTempPasscode(w http.ResponseWriter, r *http.Request) {
	var b tempPasscodeBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	code, d, err := a.Manage.IssueTempPasscode(r.Context(), OperatorActor(r), r.PathValue("user"), b.IdentityVerification)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"device": d, "passcode": code})
}

func (a *API) opUnlock(w http.ResponseWriter, r *http.Request) {
	u, err := a.Manage.Unlock(r.Context(), OperatorActor(r), r.PathValue("user"))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, u)
}

type lockBody struct {
	Reason string `json:"reason" required:"true"`
}

// opLock locks a user until unlocked and ends the user's sessions.
func (a *API) opLock(w http.ResponseWriter, r *http.Request) {
	var b lockBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	u, err := a.Manage.Lock(r.Context(), OperatorActor(r), r.PathValue("user"), b.Reason)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, u)
}

func (a *API) opSessions(w http.ResponseWriter, r *http.Request) {
	u, list, err := a.Manage.UserSessions(r.Context(), r.PathValue("user"))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"user": u.Username, "sessions": list})
}

// opEndSessions ends one session ({id}) or all of the user's sessions.
func (a *API) opEndSessions(w http.ResponseWriter, r *http.Request) {
	ended, err := a.Manage.EndUserSessions(r.Context(), OperatorActor(r), r.PathValue("user"), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ended": ended})
}

type deviceActionBody struct {
	Reason string `json:"reason"`
}

func (a *API) opDeviceAction(w http.ResponseWriter, r *http.Request) {
	var b deviceActionBody
	if r.ContentLength != 0 {
		if err := Decode(w, r, &b); err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
	}
	id := r.PathValue("id")
	var d *sls.Device
	var err error
	switch r.PathValue("action") {
	case "suspend":
		d, err = a.Manage.Suspend(r.Context(), OperatorActor(r), id, b.Reason)
	case "resume":
		d, err = a.Manage.Resume(r.Context(), OperatorActor(r), id)
	case "revoke":
		d, err = a.Manage.Revoke(r.Context(), OperatorActor(r), id, b.Reason)
	case "activate":
		d, err = a.Manage.Activate(r.Context(), OperatorActor(r), id)
	default:
		err = sls.Errorf(sls.CodeNotFound, "Unknown device action %q (suspend, resume, revoke, activate).", r.PathValue("action"))
	}
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, d)
}

// opAudit pages through the audit trail: ?after=<seq>&limit=<n>.
func (a *API) opAudit(w http.ResponseWriter, r *http.Request) {
	after, limit, err := Page(r)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	var entries []audit.Entry
	// Entries committed before this request are chained first, so the
	// reader sees everything that happened before it asked.
	if _, err := a.Store.ChainAudit(r.Context(), true); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	err = a.Store.View(r.Context(), func(tx sls.Tx) error {
		var err error
		entries, err = tx.AuditEntries(r.Context(), after, limit)
		return err
	})
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

// Page reads the paging of the audit trail and its checkpoints:
// ?after=<seq>&limit=<n> (1 to 10000, default 1000).
func Page(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	after, err1 := strconv.ParseInt(orDefault(q.Get("after"), "0"), 10, 64)
	limit, err2 := strconv.Atoi(orDefault(q.Get("limit"), "1000"))
	if err1 != nil || err2 != nil || after < 0 || limit < 1 || limit > 10000 {
		return 0, 0, sls.Errorf(sls.CodeInvalidArgument, "after must be a sequence number and limit between 1 and 10000.")
	}
	return after, limit, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
