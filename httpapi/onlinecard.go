package httpapi

import (
	"bytes"
	"net/http"

	"github.com/secure-login-system/sls/codecard"
)

type onlineCardView struct {
	DeviceID       string `json:"device_id"`
	Serial         string `json:"serial"`
	State          string `json:"state"`
	ActivationPair [2]int `json:"activation_indices"`
	ExpiresAt      string `json:"expires_at,omitempty"`
	PrintHTML      string `json:"print_html"`
	PrintPNG       string `json:"print_png"`
	ActivationHint string `json:"message"`
}

func (a *API) requestOnlineCard(w http.ResponseWriter, r *http.Request) {
	if err := NoBody(w, r); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if _, err := a.Manage.RequestOnlineCard(r.Context(), UserOf(r).ID); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	a.writeOnlineCard(w, r, http.StatusCreated)
}

func (a *API) getOnlineCard(w http.ResponseWriter, r *http.Request) {
	a.writeOnlineCard(w, r, http.StatusOK)
}

func (a *API) writeOnlineCard(w http.ResponseWriter, r *http.Request, status int) {
	d, _, pair, err := a.Manage.OnlineCard(r.Context(), UserOf(r).ID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	v := onlineCardView{DeviceID: d.ID, Serial: d.Serial, State: string(d.State), ActivationPair: pair,
		PrintHTML: "/api/v1/onlinecard/print?format=html", PrintPNG: "/api/v1/onlinecard/print?format=png",
		ActivationHint: "Print the card, then enter the values at the two index numbers to activate it."}
	if !d.ExpiresAt.IsZero() {
		v.ExpiresAt = d.ExpiresAt.Format("2006-01-02T15:04:05Z07:00")
	}
	WriteJSON(w, status, v)
}

// printOnlineCard renders the card for printing (HTML by default, PNG with
// format=png). The values are secrets: the response is never cached.
func (a *API) printOnlineCard(w http.ResponseWriter, r *http.Request) {
	d, card, _, err := a.Manage.OnlineCard(r.Context(), UserOf(r).ID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	var buf bytes.Buffer
	ct := "text/html; charset=utf-8"
	if r.URL.Query().Get("format") == "png" {
		ct = "image/png"
		err = codecard.RenderPNG(&buf, card, codecard.OnlineCard.Name, d.Serial)
	} else {
		err = codecard.RenderHTML(&buf, card, codecard.OnlineCard.Name, d.Serial)
	}
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.Write(buf.Bytes())
}

type activateBody struct {
	DeviceID string `json:"device_id" required:"true"`
	Values   string `json:"values" required:"true"`
}

func (a *API) activateOnlineCard(w http.ResponseWriter, r *http.Request) {
	var b activateBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	d, err := a.Manage.ActivateOnlineCard(r.Context(), UserOf(r).ID, b.DeviceID, b.Values, a.Login.Verifier())
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"device": d})
}
