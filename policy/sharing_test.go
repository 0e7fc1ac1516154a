package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/secure-login-system/sls"
)

var person = sls.Identity{
	DateOfBirth: "1970-05-17",
	Citizenship: "US",
	Residence:   "CA",
	IDType:      "passport",
	IDNumber:    "X1234567",
}

func user(name string, devices ...sls.DeviceKind) SharingUser {
	return SharingUser{Username: name, Identity: person, Devices: devices, InSLS: true}
}

func withIdentity(u SharingUser, f func(*sls.Identity)) SharingUser {
	f(&u.Identity)
	return u
}

func TestCheckSharing(t *testing.T) {
	dsc := sls.KindDSCPlus
	for _, tc := range []struct {
		name   string
		users  []SharingUser
		shared sls.DeviceKind
		code   sls.Code
		cond   string
		detail map[string]any
		msg    string
	}{
		{name: "two users, one DSC+",
			users: []SharingUser{user("alice", dsc), user("alice2")}, shared: dsc},
		{name: "three users, same DSC+ and a code card",
			users: []SharingUser{user("alice", dsc, sls.KindCodeCard), user("alice2", dsc), user("alice3", sls.KindCodeCard)}, shared: dsc},
		{name: "Platinum equals Gold in protection",
			users: []SharingUser{user("alice", sls.KindPlatinum), user("alice2", sls.KindGold)}, shared: sls.KindPlatinum},
		{name: "code card when nobody has better",
			users: []SharingUser{user("alice", sls.KindCodeCard), user("alice2")}, shared: sls.KindCodeCard},
		{name: "identity compared leniently (case, spaces, hyphens)",
			users: []SharingUser{user("alice", dsc), withIdentity(user("alice2"), func(i *sls.Identity) {
				i.Citizenship, i.Residence, i.IDType, i.IDNumber, i.DateOfBirth = "us", " ca", "Passport", "x123-4567", " 1970-05-17 "
			})}, shared: dsc},

		{name: "IB Key: use Add User", users: []SharingUser{user("alice", sls.KindIBKey), user("alice2")}, shared: sls.KindIBKey,
			code: sls.CodeNotEligible, cond: CondIBKeyUseAddUser, msg: "Add User"},
		{name: "SMS cannot be shared", users: []SharingUser{user("alice"), user("alice2")}, shared: sls.KindSMS,
			code: sls.CodeNotEligible, cond: CondNotShareable},
		{name: "temporary passcode cannot be shared", users: []SharingUser{user("alice"), user("alice2")}, shared: sls.KindTempPasscode,
			code: sls.CodeNotEligible, cond: CondNotShareable},
		{name: "unknown kind cannot be shared", users: []SharingUser{user("alice"), user("alice2")}, shared: "yubikey",
			code: sls.CodeNotEligible, cond: CondNotShareable},

		{name: "date of birth differs", users: []SharingUser{user("alice", dsc), user("bob"), withIdentity(user("carol"), func(i *sls.Identity) { i.DateOfBirth = "1970-05-18" })},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityMismatch,
			detail: map[string]any{"field": "date_of_birth", "users": []string{"alice", "carol"}},
			msg:    "the date of birth of alice and carol differ"},
		{name: "citizenship differs", users: []SharingUser{user("alice", dsc), withIdentity(user("bob"), func(i *sls.Identity) { i.Citizenship = "GB" })},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityMismatch,
			detail: map[string]any{"field": "citizenship", "users": []string{"alice", "bob"}}},
		{name: "residence differs", users: []SharingUser{user("alice", dsc), withIdentity(user("bob"), func(i *sls.Identity) { i.Residence = "US" })},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityMismatch,
			detail: map[string]any{"field": "residence"}},
		{name: "ID type differs", users: []SharingUser{user("alice", dsc), withIdentity(user("bob"), func(i *sls.Identity) { i.IDType = "national_id" })},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityMismatch,
			detail: map[string]any{"field": "id_type"}},
		{name: "ID number differs", users: []SharingUser{user("alice", dsc), withIdentity(user("bob"), func(i *sls.Identity) { i.IDNumber = "X1234568" })},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityMismatch,
			detail: map[string]any{"field": "id_number"}, msg: "ID document number of alice and bob differ"},
		{name: "all identity empty proves nothing", users: []SharingUser{
			{Username: "a", Devices: []sls.DeviceKind{dsc}}, {Username: "b"}},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityIncomplete,
			detail: map[string]any{"field": "date_of_birth", "users": []string{"a"}}},
		{name: "second user lacks an ID number", users: []SharingUser{user("alice", dsc), withIdentity(user("bob"), func(i *sls.Identity) { i.IDNumber = " - " })},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityIncomplete,
			detail: map[string]any{"field": "id_number", "users": []string{"bob"}}},
		{name: "malformed date of birth is missing", users: []SharingUser{
			withIdentity(user("alice", dsc), func(i *sls.Identity) { i.DateOfBirth = "17/05/1970" }),
			withIdentity(user("bob"), func(i *sls.Identity) { i.DateOfBirth = "17/05/1970" })},
			shared: dsc, code: sls.CodeNotEligible, cond: CondIdentityIncomplete},

		{name: "a user holds SMS", users: []SharingUser{user("alice", dsc), user("bob", sls.KindSMS)},
			shared: dsc, code: sls.CodeNotEligible, cond: CondTemporaryDevice,
			detail: map[string]any{"user": "bob", "device": "sms"}, msg: "bob holds a temporary device (SMS)"},
		{name: "a user holds an online card", users: []SharingUser{user("alice", dsc, sls.KindOnlineCard), user("bob")},
			shared: dsc, code: sls.CodeNotEligible, cond: CondTemporaryDevice,
			detail: map[string]any{"user": "alice", "device": "onlinecard"}},
		{name: "a user holds a temporary passcode", users: []SharingUser{user("alice", dsc), user("bob", sls.KindTempPasscode)},
			shared: dsc, code: sls.CodeNotEligible, cond: CondTemporaryDevice},
		{name: "a user holds an unknown kind", users: []SharingUser{user("alice", dsc), user("bob", "yubikey")},
			shared: dsc, code: sls.CodeNotEligible, cond: CondUnknownDevice, detail: map[string]any{"user": "bob"}},

		{name: "nobody holds the device", users: []SharingUser{user("alice", sls.KindCodeCard), user("bob")},
			shared: sls.KindDSC, code: sls.CodeNotEligible, cond: CondDeviceNotHeld},
		{name: "a DSC+ beats the shared code card", users: []SharingUser{user("alice", sls.KindCodeCard), user("bob", dsc)},
			shared: sls.KindCodeCard, code: sls.CodeNotEligible, cond: CondNotHighestProtection,
			detail: map[string]any{"user": "bob", "device": "dscplus"},
			msg:    "bob holds a Digital Security Card+, which protects more than the Security Code Card"},
		{name: "an IB Key beats the shared code card", users: []SharingUser{user("alice", sls.KindCodeCard), user("bob", sls.KindIBKey)},
			shared: sls.KindCodeCard, code: sls.CodeNotEligible, cond: CondNotHighestProtection,
			detail: map[string]any{"user": "bob", "device": "ibkey"}, msg: "Add User"},
		{name: "Platinum beats legacy DSC", users: []SharingUser{user("alice", sls.KindDSC, sls.KindPlatinum), user("bob")},
			shared: sls.KindDSC, code: sls.CodeNotEligible, cond: CondNotHighestProtection,
			detail: map[string]any{"user": "alice", "device": "platinum"}},

		{name: "one user", users: []SharingUser{user("alice", dsc)}, shared: dsc, code: sls.CodeInvalidArgument},
		{name: "same username twice", users: []SharingUser{user("alice", dsc), user("alice")}, shared: dsc, code: sls.CodeInvalidArgument},
		{name: "empty username", users: []SharingUser{user("alice", dsc), user("")}, shared: dsc, code: sls.CodeInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSharing(tc.users, tc.shared)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantRefusal(t, err, tc.code, tc.cond)
			for k, v := range tc.detail {
				got := e.Detail[k]
				if s, ok := v.([]string); ok {
					if gs, _ := got.([]string); !slices.Equal(gs, s) {
						t.Errorf("detail %s = %v, want %v", k, got, v)
					}
				} else if got != v {
					t.Errorf("detail %s = %v, want %v", k, got, v)
				}
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			// Identity values never appear in messages.
			for _, v := range []string{person.IDNumber, person.DateOfBirth, "1970-05-18", "X1234568"} {
				if strings.Contains(e.Message, v) {
					t.Errorf("message leaks %q: %s", v, e.Message)
				}
			}
		})
	}
}

func TestCanShareDevice(t *testing.T) {
	users := []SharingUser{user("alice", sls.KindDSCPlus), user("bob")}
	if err := CanShareDevice(users, sls.KindDSCPlus); err != nil {
		t.Fatal(err)
	}
	users[1].InSLS = false
	e := wantRefusal(t, CanShareDevice(users, sls.KindDSCPlus), sls.CodeNotEligible, CondNotInSLS)
	if e.Detail["user"] != "bob" {
		t.Errorf("detail = %v", e.Detail)
	}
	// CheckSharing alone does not look at participation.
	if err := CheckSharing(users, sls.KindDSCPlus); err != nil {
		t.Fatal(err)
	}
}
