package server_test

import (
	"context"
	"net/http"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/manage"
)

// TestPasskeyRoutes: a password alone cannot begin a registration; bad
// bodies are refused whole; one user's passkey cannot be renamed, switched
// or removed by another; a registration cannot be finished by another
// user nor with garbage.
func TestPasskeyRoutes(t *testing.T) {
	srv, url := openServer(t)
	if err := srv.SetPasskeyRelyingParty("localhost", []string{"http://localhost:8080"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := srv.Manage.CreateAccount(ctx, sls.ActorSystem, manage.NewAccount{ID: "P1", BaseCurrency: "USD", Jurisdiction: "US"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"pia", "paul"} {
		u, err := srv.Manage.CreateUser(ctx, sls.ActorSystem, manage.NewUser{Username: name, Password: "a client password", AccountID: "P1"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	session := sessionFor(t, srv)
	if a := send(t, "POST", url+"/api/v1/passkeys/register/begin", session(ids[0], sls.ScopeFull, ""), `{}`); a.code() != "step_up_required" {
		t.Fatalf("a password alone began a registration: %d %s", a.status, a.raw)
	}
	pia, paul := session(ids[0], sls.ScopeFull, sls.KindDSCPlus), session(ids[1], sls.ScopeFull, sls.KindDSCPlus)
	for _, bad := range []string{`{"name": `, `{"name": 1}`, `{"nick": "x"}`, `"x"`} {
		if a := send(t, "POST", url+"/api/v1/passkeys/register/begin", pia, bad); a.status != http.StatusBadRequest {
			t.Fatalf("begin %s: %d %s", bad, a.status, a.raw)
		}
	}
	a := send(t, "POST", url+"/api/v1/passkeys/register/begin", pia, `{"name": "laptop"}`)
	if a.status != http.StatusCreated || a.body["options"] == nil {
		t.Fatalf("begin: %d %s", a.status, a.raw)
	}
	dev := a.body["device_id"].(string)
	if r := send(t, "POST", url+"/api/v1/passkeys/register/finish", paul, `{"device_id": "`+dev+`", "credential": "{}"}`); r.status != http.StatusBadRequest && r.status != http.StatusNotFound {
		t.Fatalf("finish by another user: %d %s", r.status, r.raw)
	}
	if r := send(t, "POST", url+"/api/v1/passkeys/register/finish", pia, `{"device_id": "`+dev+`"}`); r.status != http.StatusBadRequest {
		t.Fatalf("finish without a credential: %d %s", r.status, r.raw)
	}
	if r := send(t, "POST", url+"/api/v1/passkeys/register/finish", pia, `{"device_id": "`+dev+`", "credential": "{\"id\": 1}"}`); r.status != http.StatusBadRequest {
		t.Fatalf("finish with garbage: %d %s", r.status, r.raw)
	}
	for _, call := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/passkeys/" + dev + "/name", `{"name": "mine now"}`},
		{"PUT", "/api/v1/passkeys/" + dev + "/first-step", `{"enabled": true}`},
		{"DELETE", "/api/v1/passkeys/" + dev, ""},
	} {
		if r := send(t, call.method, url+call.path, paul, call.body); r.status != http.StatusNotFound {
			t.Fatalf("%s %s by another user: %d %s", call.method, call.path, r.status, r.raw)
		}
	}
	if r := send(t, "PUT", url+"/api/v1/passkeys/"+dev+"/first-step", pia, `{}`); r.status != http.StatusBadRequest {
		t.Fatalf("first-step without enabled: %d %s", r.status, r.raw)
	}
}
