package cryptotrade

import (
	"net/http"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
)

// Routes declares the feature's API (append it to httpapi.API.Extra).
//
// Clients, with their session:
//
//	GET  /api/v1/crypto/permission      the permission's status
//	POST /api/v1/crypto/permission      request it (a fresh device proof: it opens a new kind of trading)
//	POST /api/v1/crypto/orders/check    may this order be routed now?
//
// Operators:
//
//	PUT /api/v1/ops/crypto/positions/{user}   report the account's holdings value (the custody fee's base)
//	GET /api/v1/ops/crypto/custody            the custody-fee ledger (?account=&month=YYYY-MM)
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	h := &handlers{s: s, a: a}
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/crypto/permission", sls.ForSession, h.permission),
		httpapi.Declare("POST /api/v1/crypto/permission", sls.ForStepUp, h.requestPermission),
		// Checking an order moves nothing (as /withdrawals/check): any full
		// session, the trading platform's included.
		httpapi.Declare("POST /api/v1/crypto/orders/check", sls.ForSession, h.checkOrder),
		// Holdings come from the back office's books, the integration role's
		// work; the ledger is read by those who answer clients and audit.
		httpapi.Declare("PUT /api/v1/ops/crypto/positions/{user}", sls.ForRoles(sls.RoleReporting), h.opPutPosition),
		httpapi.Declare("GET /api/v1/ops/crypto/custody", sls.ForRoles(sls.RoleReporting, sls.RoleClientServices, sls.RoleAuditor), h.opCustody),
	}
}

type handlers struct {
	s *Service
	a *httpapi.API
}

func (h *handlers) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := httpapi.Decode(w, r, v); err != nil {
		httpapi.WriteError(w, r, h.a.Log, err)
		return false
	}
	return true
}

func (h *handlers) permission(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Permission(r.Context(), httpapi.UserOf(r))
	h.a.Reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) requestPermission(w http.ResponseWriter, r *http.Request) {
	var b PermissionRequest
	if !h.decode(w, r, &b) {
		return
	}
	out, err := h.s.RequestPermission(r.Context(), httpapi.UserOf(r), b)
	h.a.Reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) checkOrder(w http.ResponseWriter, r *http.Request) {
	var b OrderRequest
	if !h.decode(w, r, &b) {
		return
	}
	out, err := h.s.CheckOrder(r.Context(), httpapi.UserOf(r), b)
	h.a.Reply(w, r, http.StatusOK, out, err)
}

type positionBody struct {
	ValueUSD string `json:"value_usd" required:"true"`
}

func (h *handlers) opPutPosition(w http.ResponseWriter, r *http.Request) {
	var b positionBody
	if !h.decode(w, r, &b) {
		return
	}
	out, err := h.s.ReportHolding(r.Context(), httpapi.OperatorActor(r), r.PathValue("user"), b.ValueUSD)
	h.a.Reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opCustody(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fees, err := h.s.CustodyLedger(r.Context(), q.Get("account"), q.Get("month"))
	if err != nil {
		h.a.Reply(w, r, http.StatusOK, nil, err)
		return
	}
	h.a.Reply(w, r, http.StatusOK, map[string]any{"fees": fees}, nil)
}
