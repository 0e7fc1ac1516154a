package protect

import (
	"context"
	"fmt"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/policy"
)

// TestSharingConditions checks each SPEC §5 condition on real users: the
// refusal names the condition that failed.
func TestSharingConditions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	other := func(f func(*sls.Identity)) sls.Identity { id := sameID; f(&id); return id }
	cases := []struct {
		name  string
		setup func(a, b *sls.User) // a holds a DSC+ already
		idB   sls.Identity
		kind  sls.DeviceKind
		cond  string
	}{
		{"same person, highest device", nil, sameID, sls.KindDSCPlus, ""},
		{"ID number written differently", nil, other(func(i *sls.Identity) { i.IDNumber = "p-123" }), sls.KindDSCPlus, ""},
		{"date of birth differs", nil, other(func(i *sls.Identity) { i.DateOfBirth = "1975-05-06" }), sls.KindDSCPlus, policy.CondIdentityMismatch},
		{"citizenship differs", nil, other(func(i *sls.Identity) { i.Citizenship = "CA" }), sls.KindDSCPlus, policy.CondIdentityMismatch},
		{"residence differs", nil, other(func(i *sls.Identity) { i.Residence = "GB" }), sls.KindDSCPlus, policy.CondIdentityMismatch},
		{"ID type differs", nil, other(func(i *sls.Identity) { i.IDType = "national_id" }), sls.KindDSCPlus, policy.CondIdentityMismatch},
		{"ID number differs", nil, other(func(i *sls.Identity) { i.IDNumber = "P124" }), sls.KindDSCPlus, policy.CondIdentityMismatch},
		{"identity missing", nil, other(func(i *sls.Identity) { i.IDNumber = "" }), sls.KindDSCPlus, policy.CondIdentityIncomplete},
		{"temporary device", func(a, b *sls.User) {
			if _, _, err := e.mgr.IssueTempPasscode(ctx, "operator:test", b.Username, "verified by phone"); err != nil {
				t.Fatal(err)
			}
		}, sameID, sls.KindDSCPlus, policy.CondTemporaryDevice},
		{"not the highest protection", func(a, b *sls.User) {
			if _, err := e.mgr.IssueCodeCard(ctx, "operator:test", a.Username); err != nil {
				t.Fatal(err)
			}
		}, sameID, sls.KindCodeCard, policy.CondNotHighestProtection},
		{"IB Key uses Add User", nil, sameID, sls.KindIBKey, policy.CondIBKeyUseAddUser},
		{"SMS is not a device to share", nil, sameID, sls.KindSMS, policy.CondNotShareable},
		{"nobody holds a Gold token", nil, sameID, sls.KindGold, policy.CondDeviceNotHeld},
		{"one user opted out", func(a, b *sls.User) {
			b.OptedOut = true
			if err := e.store.Update(ctx, func(tx sls.Tx) error { return tx.PutUser(ctx, b) }); err != nil {
				t.Fatal(err)
			}
		}, sameID, sls.KindDSCPlus, policy.CondNotInSLS},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			acct := fmt.Sprintf("SH%d", i)
			e.account(acct, "US")
			a := e.user(fmt.Sprintf("sha%d", i), acct)
			b := e.user(fmt.Sprintf("shb%d", i), acct, withIdentity(c.idB))
			e.dsc(a, "2468")
			if c.setup != nil {
				c.setup(a, b)
			}
			ans, err := e.svc.CheckSharing(ctx, []string{a.Username, b.Username}, c.kind)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Allowed != (c.cond == "") || ans.Condition != c.cond || (c.cond != "" && ans.Message == "") {
				t.Fatalf("got %+v, want condition %q", ans, c.cond)
			}
		})
	}
	if _, err := e.svc.CheckSharing(ctx, []string{"sha0"}, sls.KindDSCPlus); codeOf(err) != "invalid_argument" {
		t.Fatalf("one user: %v", err)
	}
}

// TestShare gives a second username of the same person the DSC+ of the
// first: the same card answers both users' challenges.
func TestShare(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("T1", "US")
	e.account("T2", "US")
	a := e.user("tom", "T1")
	b := e.user("tom-ira", "T2")
	c := e.user("tess", "T2", withIdentity(sls.Identity{DateOfBirth: "1980-01-01", Citizenship: "US", Residence: "US", IDType: "passport", IDNumber: "X9"}))
	d, key := e.dsc(a, "2468")
	if _, err := e.svc.Share(ctx, "operator:test", d.ID, []string{c.Username}); condOf(err) != policy.CondIdentityMismatch {
		t.Fatalf("sharing with another person: %v", err)
	}
	ans, err := e.svc.Share(ctx, "operator:test", d.ID, []string{b.Username})
	if err != nil || len(ans.Devices) != 1 || ans.Devices[0].State != sls.StateActive || ans.Devices[0].Serial != d.Serial {
		t.Fatalf("share: %+v %v", ans, err)
	}
	nd := ans.Devices[0]
	f := &dscplus.Factor{Sealer: e.sealer}
	err = e.store.Update(ctx, func(tx sls.Tx) error {
		l := &sls.Challenge{Prompt: &sls.Prompt{Challenge: "123456"}}
		resp, _ := dscplus.Respond(key, "2468", "123456")
		_, err := f.Verify(ctx, tx, b, nd, l, resp, t0)
		return err
	})
	if err != nil {
		t.Fatalf("the shared card does not answer for the second user: %v", err)
	}
	var rows []*sls.Device
	_ = e.store.View(ctx, func(tx sls.Tx) error {
		rows, err = tx.DevicesBySerial(ctx, sls.KindDSCPlus, d.Serial)
		return err
	})
	if len(rows) != 2 {
		t.Fatalf("device rows for the card: %d", len(rows))
	}
}
