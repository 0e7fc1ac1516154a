package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/totp"
	"github.com/secure-login-system/sls/manage"
)

// TestTOTPEnrolment: a password-only session cannot enrol an app; a
// stepped-up one can; garbage is refused whole; a wrong first code counts
// and activates nothing; the right one activates once; another user's
// pending app is not found; an operator enrols only with a second
// operator's approval.
func TestTOTPEnrolment(t *testing.T) {
	srv, url := openServerWith(t, `"operators": {}`, nil) // dual control as shipped
	ctx := context.Background()
	if _, err := srv.Manage.CreateAccount(ctx, sls.ActorSystem, manage.NewAccount{ID: "T1", BaseCurrency: "USD", Jurisdiction: "US"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"tina", "tom"} {
		u, err := srv.Manage.CreateUser(ctx, sls.ActorSystem, manage.NewUser{Username: name, Password: "a client password", AccountID: "T1"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	session := sessionFor(t, srv)
	passwordOnly := session(ids[0], sls.ScopeFull, "")
	proven := session(ids[0], sls.ScopeFull, sls.KindDSCPlus)
	other := session(ids[1], sls.ScopeFull, sls.KindDSCPlus)

	if a := send(t, "POST", url+"/api/v1/totp", passwordOnly, `{}`); a.code() != "step_up_required" {
		t.Fatalf("a password alone enrolled an app: %d %s", a.status, a.raw)
	}
	for _, bad := range []string{`{"label": `, `[]`, `{"label": 5}`, `{"label": "x", "extra": 1}`, `{"label": "` + strings.Repeat("a", 41) + `"}`, `{"label": "a\u0007b"}`} {
		if a := send(t, "POST", url+"/api/v1/totp", proven, bad); a.status != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", bad, a.status, a.raw)
		}
	}
	a := send(t, "POST", url+"/api/v1/totp", proven, `{"label": "phone"}`)
	if a.status != http.StatusCreated {
		t.Fatalf("enrol: %d %s", a.status, a.raw)
	}
	secret := a.body["secret"].(string)
	dev := a.body["device"].(map[string]any)["id"].(string)
	if png, err := base64.StdEncoding.DecodeString(a.body["qr_png"].(string)); err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("qr: %v", err)
	}
	if !strings.HasPrefix(a.body["otpauth_uri"].(string), "otpauth://totp/") {
		t.Fatalf("uri: %s", a.raw)
	}
	confirm := func(tok, id, code string) answer {
		return send(t, "POST", url+"/api/v1/totp/"+id+"/confirm", tok, `{"code": "`+code+`"}`)
	}
	if r := confirm(other, dev, "000000"); r.status != http.StatusNotFound {
		t.Fatalf("another user's app: %d %s", r.status, r.raw)
	}
	now := srv.Clock.Now()
	right, _ := totp.Code(secret, now)
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	if r := confirm(proven, dev, wrong); r.status != http.StatusUnauthorized && r.code() != "bad_response" {
		t.Fatalf("wrong first code: %d %s", r.status, r.raw)
	}
	var failed int
	srv.Store.View(ctx, func(tx sls.Tx) error {
		u, err := tx.User(ctx, ids[0])
		failed = u.FailedAnswers
		return err
	})
	if failed != 1 {
		t.Fatalf("a wrong first code was not counted: %d", failed)
	}
	if r := confirm(proven, dev, right); r.status != http.StatusOK || !strings.Contains(r.raw, `"state":"active"`) {
		t.Fatalf("right first code: %d %s", r.status, r.raw)
	}
	if r := confirm(proven, dev, right); r.status != http.StatusConflict {
		t.Fatalf("confirmed twice: %d %s", r.status, r.raw)
	}
	// The code that confirmed is used up: it does not log in either.
	var d *sls.Device
	srv.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		d, err = tx.Device(ctx, dev)
		return err
	})
	if d.State != sls.StateActive || !d.ExpiresAt.IsZero() || len(d.FactorState) == 0 {
		t.Fatalf("device after confirm: %+v", d)
	}

	// Operators: dual control, as for a temporary passcode.
	op := mintOperator(t, srv, "cs", sls.RoleClientServices)
	mintOperator(t, srv, "cs2", sls.RoleClientServices)
	if r := send(t, "POST", url+"/api/v1/ops/users/tom/totp", op, `{}`); r.status != http.StatusForbidden || r.code() != "approval_required" {
		t.Fatalf("operator enrolment without approval: %d %s", r.status, r.raw)
	}
	if r := send(t, "POST", url+"/api/v1/ops/users/tom/totp", mintOperator(t, srv, "aud", sls.RoleAuditor), `{}`); r.status != http.StatusForbidden || r.code() != "forbidden" {
		t.Fatalf("auditor enrolled an app: %d %s", r.status, r.raw)
	}
}
