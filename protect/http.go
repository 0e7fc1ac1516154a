package protect

import (
	"net/http"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
)

// Routes declares the feature's API (append it to httpapi.API.Extra).
//
// Clients and integrators, with the user's session:
//
//	GET  /api/v1/withdrawals/limits                 the session's limit and what is left
//	POST /api/v1/withdrawals/check                  may this user withdraw X now?
//	POST /api/v1/withdrawals                        record a withdrawal (checked atomically)
//	POST /api/v1/withdrawals/confirmations          confirm one withdrawal with a device
//	POST /api/v1/withdrawals/confirmations/answer   answer that confirmation's challenge
//	POST /api/v1/benefits/{benefit}/check           banking_change, email_change
//	POST /api/v1/benefits/ach-funding/check         may this user fund X by ACH/EFT?
//	POST /api/v1/benefits/ach-funding               record an ACH/EFT funding
//	GET  /api/v1/security/participation             SLS participation and settings
//	POST /api/v1/security/opt-out                   opt a user of the account out of SLS
//	POST /api/v1/security/opt-in                    opt back in
//	GET|PUT /api/v1/security/ip-restrictions        trading-platform IP restrictions
//	GET|PUT /api/v1/security/penny-stock            penny-stock trading permission
//
// Operators:
//
//	GET|PUT /api/v1/ops/rates, DELETE /api/v1/ops/rates/{currency}
//	GET|POST /api/v1/ops/holidays, DELETE /api/v1/ops/holidays/{date}
//	GET /api/v1/ops/users/{user}/protection
//	GET|PUT /api/v1/ops/users/{user}/ip-restrictions
//	POST /api/v1/ops/sharing/check, POST /api/v1/ops/sharing
//	GET /api/v1/ops/accounts/{id}/movements?kind=withdrawal|ach_funding&since=RFC3339
//	POST /api/v1/ops/movements/{id}/reverse
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	h := &handlers{s: s, a: a}
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/withdrawals/limits", sls.ForSession, h.limits),
		httpapi.Declare("POST /api/v1/withdrawals/check", sls.ForSession, h.checkWithdrawal),
		httpapi.Declare("POST /api/v1/withdrawals", sls.ForSession, h.recordWithdrawal),
		httpapi.Declare("POST /api/v1/withdrawals/confirmations", sls.ForSession, h.startStepUp),
		httpapi.Declare("POST /api/v1/withdrawals/confirmations/answer", sls.ForSession, h.answerConfirmation(sls.PurposeWithdrawal)),
		httpapi.Declare("POST /api/v1/banking-changes/confirmations", sls.ForSession, h.startBankingConfirmation),
		httpapi.Declare("POST /api/v1/banking-changes/confirmations/answer", sls.ForSession, h.answerConfirmation(sls.PurposeBankingChange)),
		httpapi.Declare("POST /api/v1/banking-changes", sls.ForSession, h.changeBanking),
		httpapi.Declare("POST /api/v1/benefits/ach-funding/check", sls.ForSession, h.checkACH),
		httpapi.Declare("POST /api/v1/benefits/ach-funding", sls.ForSession, h.recordACH),
		httpapi.Declare("POST /api/v1/benefits/{benefit}/check", sls.ForSession, h.checkBenefit),
		httpapi.Declare("GET /api/v1/security/participation", sls.ForSession, h.participation),
		httpapi.Declare("POST /api/v1/security/opt-out", sls.ForStepUp, h.optOut),
		httpapi.Declare("POST /api/v1/security/opt-in", sls.ForStepUp, h.optIn),
		httpapi.Declare("GET /api/v1/security/ip-restrictions", sls.ForSession, h.getIP),
		httpapi.Declare("PUT /api/v1/security/ip-restrictions", sls.ForStepUp, h.putIP),
		httpapi.Declare("GET /api/v1/security/penny-stock", sls.ForSession, h.getPenny),
		httpapi.Declare("PUT /api/v1/security/penny-stock", sls.ForStepUp, h.putPenny),

		httpapi.Declare("GET /api/v1/ops/rates", sls.ForRoles(sls.RoleSecurityTeam, sls.RoleAuditor), h.opRates),
		httpapi.Declare("PUT /api/v1/ops/rates", sls.ForRoles(sls.RoleSecurityTeam).WithApproval("limits.raise"), h.opSetRates),
		httpapi.Declare("DELETE /api/v1/ops/rates/{currency}", sls.ForRoles(sls.RoleSecurityTeam), h.opDeleteRate),
		httpapi.Declare("GET /api/v1/ops/holidays", sls.ForRoles(sls.RoleSecurityTeam, sls.RoleShipping, sls.RoleAuditor), h.opHolidays),
		httpapi.Declare("POST /api/v1/ops/holidays", sls.ForRoles(sls.RoleSecurityTeam), h.opAddHoliday),
		httpapi.Declare("DELETE /api/v1/ops/holidays/{date}", sls.ForRoles(sls.RoleSecurityTeam), h.opDeleteHoliday),
		httpapi.Declare("GET /api/v1/ops/users/{user}/protection", sls.ForRoles(sls.RoleSecurityTeam, sls.RoleClientServices, sls.RoleAuditor), h.opProtection),
		httpapi.Declare("GET /api/v1/ops/users/{user}/ip-restrictions", sls.ForRoles(sls.RoleSecurityTeam, sls.RoleClientServices, sls.RoleAuditor), h.opGetIP),
		httpapi.Declare("PUT /api/v1/ops/users/{user}/ip-restrictions", sls.ForRoles(sls.RoleSecurityTeam), h.opPutIP),
		httpapi.Declare("POST /api/v1/ops/sharing/check", sls.ForRoles(sls.RoleSecurityTeam), h.opSharingCheck),
		httpapi.Declare("POST /api/v1/ops/sharing", sls.ForRoles(sls.RoleSecurityTeam), h.opShare),
		httpapi.Declare("GET /api/v1/ops/accounts/{id}/movements", sls.ForRoles(sls.RoleSecurityTeam, sls.RoleClientServices, sls.RoleAuditor), h.opMovements),
		httpapi.Declare("POST /api/v1/ops/movements/{id}/reverse", sls.ForRoles(sls.RoleSecurityTeam), h.opReverse),
	}
}

type handlers struct {
	s *Service
	a *httpapi.API
}

func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpapi.WriteError(w, r, h.a.Log, err)
}

// reply writes v, or err when set.
func (h *handlers) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	h.a.Reply(w, r, status, v, err)
}

// decode reads a JSON body; an empty body is allowed when optional.
func (h *handlers) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	decode := httpapi.Decode
	if optional {
		decode = httpapi.DecodeOptional
	}
	if err := decode(w, r, v); err != nil {
		httpapi.WriteError(w, r, h.a.Log, err)
		return false
	}
	return true
}

func (h *handlers) limits(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Limits(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r))
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) checkWithdrawal(w http.ResponseWriter, r *http.Request) {
	var b MoneyRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.CheckWithdrawal(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) recordWithdrawal(w http.ResponseWriter, r *http.Request) {
	var b MoneyRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.RecordWithdrawal(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	status := http.StatusCreated
	if out != nil && out.Replayed {
		status = http.StatusOK
	}
	h.reply(w, r, status, out, err)
}

func (h *handlers) startStepUp(w http.ResponseWriter, r *http.Request) {
	var b StepUpRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.StartStepUp(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusCreated, out, err)
}

type stepUpAnswerBody struct {
	ConfirmationID string `json:"confirmation_id" required:"true"`
	Response       string `json:"response" required:"true"`
}

// answerConfirmation answers a confirmation of purpose (a withdrawal's
// cannot be answered as a banking change's, nor the other way round).
func (h *handlers) answerConfirmation(purpose sls.Purpose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b stepUpAnswerBody
		if !h.decode(w, r, &b, false) {
			return
		}
		out, err := h.s.answerConfirmation(r.Context(), httpapi.SessionOf(r), purpose, b.ConfirmationID, b.Response)
		h.reply(w, r, http.StatusOK, out, err)
	}
}

func (h *handlers) startBankingConfirmation(w http.ResponseWriter, r *http.Request) {
	var b BankingConfirmationRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.StartBankingConfirmation(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusCreated, out, err)
}

func (h *handlers) changeBanking(w http.ResponseWriter, r *http.Request) {
	var b BankingChangeRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.ChangeBanking(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusCreated, out, err)
}

func (h *handlers) checkBenefit(w http.ResponseWriter, r *http.Request) {
	// The body is optional: these checks need nothing but the session.
	var b struct{}
	if !h.decode(w, r, &b, true) {
		return
	}
	benefit := map[string]string{"banking-change": BenefitBankingChange, "email-change": BenefitEmailChange}[r.PathValue("benefit")]
	if benefit == "" {
		h.fail(w, r, sls.Errorf(sls.CodeNotFound, "Unknown benefit %q (banking-change, email-change, ach-funding).", r.PathValue("benefit")))
		return
	}
	out, err := h.s.CheckBenefit(r.Context(), httpapi.UserOf(r), benefit)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) checkACH(w http.ResponseWriter, r *http.Request) {
	var b MoneyRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.CheckACH(r.Context(), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) recordACH(w http.ResponseWriter, r *http.Request) {
	var b MoneyRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.RecordACH(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	status := http.StatusCreated
	if out != nil && out.Replayed {
		status = http.StatusOK
	}
	h.reply(w, r, status, out, err)
}

func (h *handlers) participation(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Participation(r.Context(), httpapi.UserOf(r), r.URL.Query().Get("username"))
	h.reply(w, r, http.StatusOK, out, err)
}

type participationBody struct {
	// Username is the user to opt out or in; empty means the caller.
	Username string `json:"username"`
}

func (h *handlers) optOut(w http.ResponseWriter, r *http.Request) { h.setParticipation(w, r, true) }
func (h *handlers) optIn(w http.ResponseWriter, r *http.Request)  { h.setParticipation(w, r, false) }

func (h *handlers) setParticipation(w http.ResponseWriter, r *http.Request, out bool) {
	var b participationBody
	if !h.decode(w, r, &b, true) {
		return
	}
	res, err := h.s.SetParticipation(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b.Username, out)
	h.reply(w, r, http.StatusOK, res, err)
}

type ipBody struct {
	// IPRestrictions is required: an empty list removes the restrictions,
	// a missing one ({} or null) is a mistake, never a removal.
	IPRestrictions *[]string `json:"ip_restrictions" required:"true"`
}

// list returns the restrictions, refusing a body that left them out.
func (b ipBody) list() ([]string, error) {
	if b.IPRestrictions == nil {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "ip_restrictions is required (an empty list removes the restrictions).")
	}
	return *b.IPRestrictions, nil
}

func (h *handlers) getIP(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.IPRestrictions(r.Context(), httpapi.UserOf(r).ID, httpapi.ClientIP(r))
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) putIP(w http.ResponseWriter, r *http.Request) {
	var b ipBody
	if !h.decode(w, r, &b, false) {
		return
	}
	list, err := b.list()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u := httpapi.UserOf(r)
	out, err := h.s.SetIPRestrictions(r.Context(), sls.ActorUser(u.ID), u.ID, list, httpapi.ClientIP(r))
	h.reply(w, r, http.StatusOK, out, err)
}

type pennyBody struct {
	Enabled *bool `json:"enabled" required:"true"` // required: never read a missing field as "off"
}

func (h *handlers) getPenny(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.PennyStockOf(r.Context(), httpapi.UserOf(r).ID)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) putPenny(w http.ResponseWriter, r *http.Request) {
	var b pennyBody
	if !h.decode(w, r, &b, false) {
		return
	}
	if b.Enabled == nil {
		h.fail(w, r, sls.Errorf(sls.CodeInvalidArgument, "enabled is required (true or false)."))
		return
	}
	out, err := h.s.SetPennyStock(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), *b.Enabled)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opRates(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.ListRates(r.Context())
	h.reply(w, r, http.StatusOK, map[string]any{"rates": out}, err)
}

type ratesBody struct {
	Rates map[string]string `json:"rates" required:"true"`
	// Force sets rates outside the sane band (a real devaluation); it
	// needs a Reason, and both are audited.
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (h *handlers) opSetRates(w http.ResponseWriter, r *http.Request) {
	var b ratesBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.SetRates(r.Context(), httpapi.OperatorActor(r), b.Rates, b.Force, b.Reason)
	h.reply(w, r, http.StatusOK, map[string]any{"rates": out}, err)
}

func (h *handlers) opDeleteRate(w http.ResponseWriter, r *http.Request) {
	err := h.s.DeleteRate(r.Context(), httpapi.OperatorActor(r), r.PathValue("currency"))
	h.reply(w, r, http.StatusOK, map[string]any{"deleted": r.PathValue("currency")}, err)
}

func (h *handlers) opHolidays(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.ListHolidays(r.Context())
	h.reply(w, r, http.StatusOK, map[string]any{"holidays": out}, err)
}

type holidayBody struct {
	Date string `json:"date" required:"true"`
	Name string `json:"name"`
}

func (h *handlers) opAddHoliday(w http.ResponseWriter, r *http.Request) {
	var b holidayBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.AddHoliday(r.Context(), httpapi.OperatorActor(r), b.Date, b.Name)
	h.reply(w, r, http.StatusCreated, out, err)
}

func (h *handlers) opDeleteHoliday(w http.ResponseWriter, r *http.Request) {
	err := h.s.DeleteHoliday(r.Context(), httpapi.OperatorActor(r), r.PathValue("date"))
	h.reply(w, r, http.StatusOK, map[string]any{"deleted": r.PathValue("date")}, err)
}

func (h *handlers) opProtection(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.ParticipationOf(r.Context(), r.PathValue("user"))
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opGetIP(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.IPRestrictions(r.Context(), r.PathValue("user"), "")
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opPutIP(w http.ResponseWriter, r *http.Request) {
	var b ipBody
	if !h.decode(w, r, &b, false) {
		return
	}
	list, err := b.list()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out, err := h.s.SetIPRestrictions(r.Context(), httpapi.OperatorActor(r), r.PathValue("user"), list, "")
	h.reply(w, r, http.StatusOK, out, err)
}

type sharingCheckBody struct {
	Usernames  []string       `json:"usernames" required:"true"`
	DeviceKind sls.DeviceKind `json:"device_kind" required:"true"`
}

func (h *handlers) opSharingCheck(w http.ResponseWriter, r *http.Request) {
	var b sharingCheckBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.CheckSharing(r.Context(), b.Usernames, b.DeviceKind)
	h.reply(w, r, http.StatusOK, out, err)
}

type shareBody struct {
	DeviceID  string   `json:"device_id" required:"true"`
	Usernames []string `json:"usernames" required:"true"`
}

func (h *handlers) opShare(w http.ResponseWriter, r *http.Request) {
	var b shareBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Share(r.Context(), httpapi.OperatorActor(r), b.DeviceID, b.Usernames)
	h.reply(w, r, http.StatusCreated, out, err)
}

func (h *handlers) opMovements(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind == "" {
		kind = sls.MoveWithdrawal
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			h.fail(w, r, sls.Errorf(sls.CodeInvalidArgument, "since must be an RFC 3339 time."))
			return
		}
		since = t
	}
	out, err := h.s.Movements(r.Context(), r.PathValue("id"), kind, since)
	h.reply(w, r, http.StatusOK, map[string]any{"movements": out}, err)
}

type reverseBody struct {
	Reason string `json:"reason" required:"true"`
}

func (h *handlers) opReverse(w http.ResponseWriter, r *http.Request) {
	var b reverseBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.ReverseWithdrawal(r.Context(), httpapi.OperatorActor(r), r.PathValue("id"), b.Reason)
	h.reply(w, r, http.StatusOK, out, err)
}
