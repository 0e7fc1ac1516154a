package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("LoginWithUser", testLoginWithUser)
}

// testLoginWithUser: the login, its user (with the account kept for
// Account) and its chosen device read in one statement are what the
// separate reads return; a login without a device has none; an unknown
// login is not found; and a deadline changed after the read is saved.
func testLoginWithUser(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "loginuser")
	dev := &sls.Device{ID: "dev_lu", UserID: u.ID, Kind: sls.KindDSCPlus, State: sls.StateActive, Serial: "DSC-1", Label: "card",
		Secret: []byte("sealed"), FactorState: []byte("fs"), CreatedAt: t0, ActivatedAt: t0.Add(time.Minute)}
	l := &sls.LoginTx{State: sls.LoginSelectDevice, Challenge: sls.Challenge{IDHash: "lu1", Purpose: sls.PurposeLogin, UserID: u.ID,
		Platform: sls.PlatformTrading, CreatedAt: t0, Deadline: t0.Add(3 * time.Minute), ClientIP: "192.0.2.9"}}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.CreateDevice(ctx, dev); err != nil {
			return err
		}
		return tx.CreateLogin(ctx, l)
	})
	// check reads the three together and apart in one transaction and
	// compares them.
	check := func(ctx context.Context, tx sls.Tx, wantDevice bool) (*sls.LoginTx, error) {
		gl, gu, gd, err := tx.LoginWithUserForUpdate(ctx, "lu1")
		if err != nil {
			return nil, err
		}
		wl, err := tx.Login(ctx, "lu1")
		if err != nil {
			return nil, err
		}
		wu, err := tx.User(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if !reflect.DeepEqual(gl, wl) || !reflect.DeepEqual(gu, wu) {
			return nil, fmt.Errorf("together: %+v %+v, apart: %+v %+v", gl, gu, wl, wu)
		}
		if acct, err := tx.Account(ctx, u.AccountID); err != nil || acct.ID != u.AccountID || acct.BaseCurrency != "USD" {
			return nil, fmt.Errorf("account after the read: %+v %v", acct, err)
		}
		switch {
		case !wantDevice && gd != nil:
			return nil, fmt.Errorf("a login without a device came with %+v", gd)
		case wantDevice:
			wd, err := tx.Device(ctx, dev.ID)
			if err != nil {
				return nil, err
			}
			if !reflect.DeepEqual(gd, wd) {
				return nil, fmt.Errorf("device together: %+v, apart: %+v", gd, wd)
			}
		}
		return gl, nil
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := check(ctx, tx, false)
		if err != nil {
			return err
		}
		got.State, got.DeviceID, got.Deadline = sls.LoginChallenged, dev.ID, t0.Add(2*time.Minute)
		return tx.PutLogin(ctx, got)
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := check(ctx, tx, true)
		if err != nil {
			return err
		}
		if got.State != sls.LoginChallenged || !got.Deadline.Equal(t0.Add(2*time.Minute)) {
			return fmt.Errorf("after the step: %s, deadline %v", got.State, got.Deadline)
		}
		if _, _, _, err := tx.LoginWithUserForUpdate(ctx, "nope"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("unknown login: %v", err)
		}
		return nil
	})
}
