package lifecycle

import (
	"net/http"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/policy"
)

// Routes declares the lifecycle API (append it to httpapi.API.Extra).
//
// Clients, with their session:
//
//	GET  /api/v1/dscplus/order-form             eligibility, address on file, deposit, fees
//	POST /api/v1/dscplus/orders/preview         the summary to confirm ("Back": preview again)
//	POST /api/v1/dscplus/orders                 place the order confirmed by its summary
//	GET  /api/v1/lifecycle/orders               my device orders
//	GET  /api/v1/lifecycle/orders/{id}          one order with its history and deposit
//	POST /api/v1/lifecycle/orders/{id}/activation   activation challenge for the new card
//	POST /api/v1/lifecycle/orders/{id}/activate     answer it with the card: activate
//	POST /api/v1/lifecycle/devices/{id}/report      lost, stolen or damaged
//	POST /api/v1/lifecycle/devices/{id}/destroyed   a printed card was destroyed
//	GET  /api/v1/lifecycle/return-address       where to send devices back
//	POST /api/v1/lifecycle/returns              the return form
//	GET|PUT /api/v1/lifecycle/shipping-address  the address on file
//	GET  /api/v1/lifecycle/deposits             the account's deposit ledger
//
// Operators:
//
//	GET  /api/v1/ops/orders?state=&user=&account=
//	GET  /api/v1/ops/orders/{id}
//	POST /api/v1/ops/orders/{id}/ship           carrier, tracking → the card file
//	POST /api/v1/ops/orders/{id}/deliver
//	POST /api/v1/ops/orders/{id}/receive        assessment: intact | deliberately_damaged
//	POST /api/v1/ops/orders/{id}/event          cancel, undeliverable, lost_in_shipping, return_lost, report_*, send_return
//	GET  /api/v1/ops/accounts/{id}/deposits
//	POST /api/v1/ops/accounts/{id}/close
//	PUT  /api/v1/ops/users/{user}/shipping-address
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	h := &handlers{s: s, a: a}
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/dscplus/order-form", sls.ForSession, h.form),
		httpapi.Declare("POST /api/v1/dscplus/orders/preview", sls.ForSession, h.preview),
		httpapi.Declare("POST /api/v1/dscplus/orders", sls.ForStepUpOrTemporary, h.place),
		httpapi.Declare("GET /api/v1/lifecycle/orders", sls.ForSession, h.myOrders),
		httpapi.Declare("GET /api/v1/lifecycle/orders/{id}", sls.ForSession, h.myOrder),
		httpapi.Declare("POST /api/v1/lifecycle/orders/{id}/activation", sls.ForStepUpOrTemporary, h.startActivation),
		httpapi.Declare("POST /api/v1/lifecycle/orders/{id}/activate", sls.ForStepUpOrTemporary, h.activate),
		httpapi.Declare("POST /api/v1/lifecycle/devices/{id}/report", sls.ForStepUpOrTemporary, h.report),
		httpapi.Declare("POST /api/v1/lifecycle/devices/{id}/destroyed", sls.ForStepUpOrTemporary, h.destroyed),
		httpapi.Declare("GET /api/v1/lifecycle/return-address", sls.ForSession, h.returnAddress),
		httpapi.Declare("POST /api/v1/lifecycle/returns", sls.ForStepUpOrTemporary, h.sendReturn),
		httpapi.Declare("GET /api/v1/lifecycle/shipping-address", sls.ForSession, h.getAddress),
		httpapi.Declare("PUT /api/v1/lifecycle/shipping-address", sls.ForStepUp, h.putAddress),
		httpapi.Declare("GET /api/v1/lifecycle/deposits", sls.ForSession, h.myDeposits),

		httpapi.Declare("GET /api/v1/ops/orders", sls.ForRoles(sls.RoleShipping, sls.RoleClientServices, sls.RoleAuditor), h.opOrders),
		httpapi.Declare("GET /api/v1/ops/orders/{id}", sls.ForRoles(sls.RoleShipping, sls.RoleClientServices, sls.RoleAuditor), h.opOrder),
		httpapi.Declare("POST /api/v1/ops/orders/{id}/ship", sls.ForRoles(sls.RoleShipping), h.opShip),
		httpapi.Declare("POST /api/v1/ops/orders/{id}/deliver", sls.ForRoles(sls.RoleShipping), h.opDeliver),
		httpapi.Declare("POST /api/v1/ops/orders/{id}/receive", sls.ForRoles(sls.RoleShipping), h.opReceive),
		httpapi.Declare("POST /api/v1/ops/orders/{id}/event", sls.ForRoles(sls.RoleShipping), h.opEvent),
		httpapi.Declare("GET /api/v1/ops/accounts/{id}/deposits", sls.ForRoles(sls.RoleShipping, sls.RoleClientServices, sls.RoleAuditor), h.opDeposits),
		httpapi.Declare("POST /api/v1/ops/accounts/{id}/close", sls.ForRoles(sls.RoleClientServices), h.opClose),
		httpapi.Declare("PUT /api/v1/ops/users/{user}/shipping-address", sls.ForRoles(sls.RoleClientServices), h.opPutAddress),
	}
}

type handlers struct {
	s *Service
	a *httpapi.API
}

func (h *handlers) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	h.a.Reply(w, r, status, v, err)
}

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

func (h *handlers) form(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Form(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r))
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) preview(w http.ResponseWriter, r *http.Request) {
	var b OrderRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Preview(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) place(w http.ResponseWriter, r *http.Request) {
	var b OrderRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Place(r.Context(), httpapi.SessionOf(r), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusCreated, out, err)
}

func (h *handlers) myOrders(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Orders(r.Context(), sls.DeviceOrderFilter{UserID: httpapi.UserOf(r).ID})
	h.reply(w, r, http.StatusOK, map[string]any{"orders": out}, err)
}

func (h *handlers) myOrder(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Order(r.Context(), httpapi.UserOf(r).ID, r.PathValue("id"))
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) startActivation(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.StartActivation(r.Context(), httpapi.UserOf(r), r.PathValue("id"))
	h.reply(w, r, http.StatusCreated, out, err)
}

type activateBody struct {
	Response string `json:"response" required:"true"`
}

func (h *handlers) activate(w http.ResponseWriter, r *http.Request) {
	var b activateBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Activate(r.Context(), httpapi.UserOf(r), r.PathValue("id"), b.Response)
	h.reply(w, r, http.StatusOK, out, err)
}

type reportBody struct {
	What string `json:"what" required:"true"` // lost, stolen, damaged
}

func (h *handlers) report(w http.ResponseWriter, r *http.Request) {
	var b reportBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Report(r.Context(), httpapi.UserOf(r), r.PathValue("id"), b.What)
	h.reply(w, r, http.StatusOK, out, err)
}

type destroyedBody struct {
	Confirm bool `json:"confirm" required:"true"`
}

func (h *handlers) destroyed(w http.ResponseWriter, r *http.Request) {
	var b destroyedBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.ConfirmDestroyed(r.Context(), httpapi.UserOf(r), r.PathValue("id"), b.Confirm)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) returnAddress(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.ReturnAddressFor(r.Context(), httpapi.UserOf(r))
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) sendReturn(w http.ResponseWriter, r *http.Request) {
	var b ReturnRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.SendReturn(r.Context(), httpapi.UserOf(r), b)
	h.reply(w, r, http.StatusCreated, out, err)
}

type addressBody struct {
	ShippingAddress string `json:"shipping_address" required:"true"`
}

func (h *handlers) getAddress(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Address(r.Context(), httpapi.UserOf(r).ID)
	h.reply(w, r, http.StatusOK, addressBody{ShippingAddress: out}, err)
}

func (h *handlers) putAddress(w http.ResponseWriter, r *http.Request) {
	var b addressBody
	if !h.decode(w, r, &b, false) {
		return
	}
	u := httpapi.UserOf(r)
	err := h.s.SetAddress(r.Context(), sls.ActorUser(u.ID), u.ID, b.ShippingAddress)
	h.reply(w, r, http.StatusOK, map[string]any{"saved": err == nil}, err)
}

func (h *handlers) myDeposits(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Ledger(r.Context(), httpapi.UserOf(r).AccountID)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := sls.DeviceOrderFilter{State: q.Get("state"), AccountID: q.Get("account")}
	if name := q.Get("user"); name != "" {
		u, err := h.a.Manage.UserByName(r.Context(), name)
		if err != nil {
			httpapi.WriteError(w, r, h.a.Log, err)
			return
		}
		f.UserID = u.ID
	}
	if f.State != "" && !policy.State(f.State).Valid() {
		httpapi.WriteError(w, r, h.a.Log, sls.Errorf(sls.CodeInvalidArgument, "Unknown state %q.", f.State))
		return
	}
	out, err := h.s.Orders(r.Context(), f)
	h.reply(w, r, http.StatusOK, map[string]any{"orders": out}, err)
}

func (h *handlers) opOrder(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Order(r.Context(), "", r.PathValue("id"))
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opShip(w http.ResponseWriter, r *http.Request) {
	var b ShipRequest
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Ship(r.Context(), httpapi.OperatorActor(r), r.PathValue("id"), b)
	if err == nil {
		out.CardFile, err = h.a.Cards.WriteDSCPlus(out.Order.DeviceID, out.Card)
	}
	h.reply(w, r, http.StatusOK, out, err)
}

type deliverBody struct {
	At time.Time `json:"at,omitzero"`
}

func (h *handlers) opDeliver(w http.ResponseWriter, r *http.Request) {
	var b deliverBody
	if !h.decode(w, r, &b, true) {
		return
	}
	out, err := h.s.Deliver(r.Context(), httpapi.OperatorActor(r), r.PathValue("id"), b.At)
	h.reply(w, r, http.StatusOK, out, err)
}

type receiveBody struct {
	Assessment string `json:"assessment" required:"true"`
	Note       string `json:"note"`
}

func (h *handlers) opReceive(w http.ResponseWriter, r *http.Request) {
	var b receiveBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Receive(r.Context(), httpapi.OperatorActor(r), r.PathValue("id"), b.Assessment, b.Note)
	h.reply(w, r, http.StatusOK, out, err)
}

type eventBody struct {
	Event policy.Event `json:"event" required:"true"`
	Note  string       `json:"note"`
}

func (h *handlers) opEvent(w http.ResponseWriter, r *http.Request) {
	var b eventBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.Apply(r.Context(), httpapi.OperatorActor(r), r.PathValue("id"), b.Event, b.Note)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opDeposits(w http.ResponseWriter, r *http.Request) {
	out, err := h.s.Ledger(r.Context(), r.PathValue("id"))
	h.reply(w, r, http.StatusOK, out, err)
}

type closeBody struct {
	Reason string `json:"reason" required:"true"`
}

func (h *handlers) opClose(w http.ResponseWriter, r *http.Request) {
	var b closeBody
	if !h.decode(w, r, &b, false) {
		return
	}
	out, err := h.s.CloseAccount(r.Context(), httpapi.OperatorActor(r), r.PathValue("id"), b.Reason)
	h.reply(w, r, http.StatusOK, out, err)
}

func (h *handlers) opPutAddress(w http.ResponseWriter, r *http.Request) {
	var b addressBody
	if !h.decode(w, r, &b, false) {
		return
	}
	u, err := h.a.Manage.UserByName(r.Context(), r.PathValue("user"))
	if err != nil {
		httpapi.WriteError(w, r, h.a.Log, err)
		return
	}
	err = h.s.SetAddress(r.Context(), httpapi.OperatorActor(r), u.ID, b.ShippingAddress)
	h.reply(w, r, http.StatusOK, map[string]any{"saved": err == nil}, err)
}
