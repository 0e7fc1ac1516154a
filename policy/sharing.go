package policy

import (
	"strings"

	"github.com/secure-login-system/sls"
)

// SharingUser is one username that would share a device: its identity data
// and the kinds of the devices it holds (active ones).
type SharingUser struct {
	Username string
	Identity sls.Identity
	Devices  []sls.DeviceKind
	// InSLS is whether the user participates in SLS; only CanShareDevice
	// looks at it (sharing is an SLS benefit, SPEC §4).
	InSLS bool
}

// identityField is one field of sls.Identity as compared for sharing.
type identityField struct {
	key, title string
	get        func(sls.Identity) string
}

// identityFields lists the SPEC §5 "same person" data in the order refusals
// report them. Country codes and the ID type compare case-insensitively;
// ID numbers also ignore spaces and hyphens, which documents print and
// clients type inconsistently.
var identityFields = []identityField{
	{"date_of_birth", "date of birth", func(i sls.Identity) string { return normDOB(i.DateOfBirth) }},
	{"citizenship", "citizenship", func(i sls.Identity) string { return strings.ToUpper(strings.TrimSpace(i.Citizenship)) }},
	{"residence", "country of residence", func(i sls.Identity) string { return strings.ToUpper(strings.TrimSpace(i.Residence)) }},
	{"id_type", "ID document type", func(i sls.Identity) string { return strings.ToLower(strings.TrimSpace(i.IDType)) }},
	{"id_number", "ID document number", func(i sls.Identity) string { return normIDNumber(i.IDNumber) }},
}

// normDOB returns the date of birth when it is a real YYYY-MM-DD date, and
// "" (missing) otherwise, so malformed data never proves sameness.
func normDOB(s string) string {
	d, err := ParseDate(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return d.String()
}

func normIDNumber(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CheckSharing answers whether users may share one physical device of kind
// shared (SPEC §5). Conditions, checked in this order, each refusal an
// *sls.Error not_eligible with Detail "condition":
//
//   - ibkey_use_add_user: an IB Key is never shared here; IB Key users add
//     the other username to their app with "Add User" (SPEC §3);
//   - not_shareable: temporary or unknown kinds (SMS, online card,
//     temporary passcode) are not devices one can hand around;
//   - identity_incomplete / identity_mismatch: every user has the same date
//     of birth, citizenship, country of residence and ID document (type and
//     number); a missing field proves nothing, so it refuses; Detail
//     "field" and "users" name the field and the two users;
//   - unknown_device: a user holds a kind this version does not know;
//   - temporary_device: no user holds a temporary device (Detail "user",
//     "device");
//   - device_not_held: at least one of the users holds the shared device;
//   - not_highest_protection: no user holds a device that protects more
//     than the shared one (Detail "user", "device"); equal protection
//     (Platinum and Gold) is fine.
//
// Fewer than two users, or a username given twice, is invalid_argument.
// Messages name users and devices, never identity values.
func CheckSharing(users []SharingUser, shared sls.DeviceKind) error {
	if len(users) < 2 {
		return sls.Errorf(sls.CodeInvalidArgument, "Sharing a device needs at least two users.")
	}
	names := make(map[string]bool, len(users))
	for _, u := range users {
		if u.Username == "" || names[u.Username] {
			return sls.Errorf(sls.CodeInvalidArgument, "Each sharing user must have a distinct username.")
		}
		names[u.Username] = true
	}

	if shared == sls.KindIBKey {
		return refuse(sls.CodeNotEligible, CondIBKeyUseAddUser,
			"SLS Key is not shared this way: add the other users to the SLS Mobile app with \"Add User\".").
			WithDetail("device", string(shared))
	}
	if !shared.Valid() || shared.Temporary() {
		return refuse(sls.CodeNotEligible, CondNotShareable,
			"A %s cannot be shared between users.", shared.Title()).WithDetail("device", string(shared))
	}

	first := users[0]
	for _, f := range identityFields {
		want := f.get(first.Identity)
		if want == "" {
			return identityIncomplete(first.Username, f)
		}
		for _, u := range users[1:] {
			got := f.get(u.Identity)
			if got == "" {
				return identityIncomplete(u.Username, f)
			}
			if got != want {
				return refuse(sls.CodeNotEligible, CondIdentityMismatch,
					"The users do not belong to the same person: the %s of %s and %s differ.", f.title, first.Username, u.Username).
					WithDetail("field", f.key).WithDetail("users", []string{first.Username, u.Username})
			}
		}
	}

	held := false
	var top sls.DeviceKind
	var topUser string
	for _, u := range users {
		for _, k := range u.Devices {
			if !k.Valid() {
				return refuse(sls.CodeNotEligible, CondUnknownDevice,
					"%s holds a device of unknown kind %q.", u.Username, string(k)).
					WithDetail("user", u.Username).WithDetail("device", string(k))
			}
			if k.Temporary() {
				return refuse(sls.CodeNotEligible, CondTemporaryDevice,
					"%s holds a temporary device (%s); users with a temporary device cannot share one.", u.Username, k.Title()).
					WithDetail("user", u.Username).WithDetail("device", string(k))
			}
			if k == shared {
				held = true
			}
			if top == "" || k.Protection() > top.Protection() {
				top, topUser = k, u.Username
			}
		}
	}
	if !held {
		return refuse(sls.CodeNotEligible, CondDeviceNotHeld,
			"None of the users holds a %s to share.", shared.Title()).WithDetail("device", string(shared))
	}
	if top.Protection() > shared.Protection() {
		msg := "%s holds a %s, which protects more than the %s: only the device with the highest protection can be shared."
		if top == sls.KindIBKey {
			msg += " SLS Key users add the other users with \"Add User\" instead."
		}
		return refuse(sls.CodeNotEligible, CondNotHighestProtection, msg, topUser, top.Title(), shared.Title()).
			WithDetail("user", topUser).WithDetail("device", string(top))
	}
	return nil
}

func identityIncomplete(user string, f identityField) error {
	return refuse(sls.CodeNotEligible, CondIdentityIncomplete,
		"The %s of %s is missing, so the users cannot be shown to be the same person.", f.title, user).
		WithDetail("field", f.key).WithDetail("users", []string{user})
}

// CanShareDevice is CheckSharing preceded by the participation check:
// sharing a device is an SLS benefit (SPEC §4), so every user must be in
// SLS (not_eligible/not_in_sls, Detail "user").
func CanShareDevice(users []SharingUser, shared sls.DeviceKind) error {
	for _, u := range users {
		if !u.InSLS {
			return refuse(sls.CodeNotEligible, CondNotInSLS,
				"%s does not use the Secure Login System; sharing a device requires it.", u.Username).
				WithDetail("user", u.Username)
		}
	}
	return CheckSharing(users, shared)
}
