package cryptotrade_test

import (
	"context"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/cryptorules"
	"github.com/secure-login-system/sls/cryptotrade"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// The residence judged is the account's on file: a client of a US
// account cannot declare themselves into Hong Kong, and the refusal says
// what is on file.
func TestPermissionResidenceOnFile(t *testing.T) {
	db := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, db, "usclient") // account jurisdiction US
	svc := &cryptotrade.Service{Store: db, Clock: clock.NewFake(time.Date(2026, 12, 2, 19, 0, 0, 0, time.UTC)),
		Config: cryptotrade.Config{Enabled: true, Rules: cryptorules.Default(), JobEvery: time.Hour}}
	ctx := context.Background()
	_, err := svc.RequestPermission(ctx, u, cryptotrade.PermissionRequest{InvestorType: cryptotrade.Institution,
		InvestableAssetsHKD: "90000000", HongKongResident: true})
	e, ok := err.(*sls.Error)
	if !ok || e.Code != sls.CodeNotEligible || e.Detail["rule"] != "hong_kong_resident" || e.Detail["have"] != "US" || e.Detail["need"] != "HK" {
		t.Fatalf("declared resident on a US account: %v", err)
	}
	p, err := svc.Permission(ctx, u)
	if err != nil || p.Status != sls.CryptoRefused || p.Rule != "hong_kong_resident" || p.Residence != "US" {
		t.Fatalf("stored: %+v %v", p, err)
	}
	if _, err := svc.CheckOrder(ctx, u, cryptotrade.OrderRequest{}); sls.ErrorCode(err) != sls.CodeNotEligible {
		t.Fatalf("order after a refusal: %v", err)
	}
}
