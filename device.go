package sls

import (
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// DeviceKind names a kind of security device (second factor).
type DeviceKind string

// Device kinds. The string values are stored in the database and appear in
// the API; never rename one.
const (
	KindIBKey        DeviceKind = "ibkey"        // mobile authenticator (push and challenge/response)
	KindDSCPlus      DeviceKind = "dscplus"      // Digital Security Card+ (OCRA, PIN)
	KindCodeCard     DeviceKind = "codecard"     // printed Security Code Card (3-character values)
	KindOnlineCard   DeviceKind = "onlinecard"   // Online Security Code Card (3-digit values, 21 days)
	KindSMS          DeviceKind = "sms"          // one-time code by SMS or voice
	KindTempPasscode DeviceKind = "temppasscode" // temporary passcode from Client Services
	KindDSC          DeviceKind = "dsc"          // legacy Digital Security Card
	KindPlatinum     DeviceKind = "platinum"     // legacy Platinum token
	KindGold         DeviceKind = "gold"         // legacy Gold token
	KindPasskey      DeviceKind = "passkey"      // WebAuthn credential (passkey, security key)
	KindTOTP         DeviceKind = "totp"         // RFC 6238 code from a standard authenticator app
)

// AllKinds lists every device kind, highest protection first.
var AllKinds = []DeviceKind{
	KindDSCPlus, KindPlatinum, KindGold, KindDSC, KindIBKey, KindPasskey,
	KindTOTP, KindCodeCard, KindSMS, KindOnlineCard, KindTempPasscode,
}

// Valid reports whether k is a known device kind.
func (k DeviceKind) Valid() bool {
	_, ok := kindInfo[k]
	return ok
}

// Protection is the protection level of a device kind; a higher number
// protects more. It orders devices for sharing (SPEC §5: the shared device
// must be the one with the highest protection) and for display.
type Protection int

// Protection returns the protection level of the kind; unknown kinds get 0,
// the lowest, so that they never win a comparison (fail closed). The
// configurable kinds (ConfigurableKinds) answer what ConfigureProtection
// set, or their default.
func (k DeviceKind) Protection() Protection {
	if m := protectionSet.Load(); m != nil {
		if p, ok := (*m)[k]; ok {
			return p
		}
	}
	return kindInfo[k].protection
}

// DefaultProtection is the kind's built-in protection level, whatever
// ConfigureProtection set.
func (k DeviceKind) DefaultProtection() Protection { return kindInfo[k].protection }

// ConfigurableKinds are the kinds whose protection level and withdrawal
// limits a deployment sets (the "devices" configuration section): the
// standard authenticators, which a brokerage ranks against its own
// devices. The seed's kinds keep the levels SPEC §4 gives them.
var ConfigurableKinds = []DeviceKind{KindPasskey, KindTOTP}

// protectionSet holds the configured levels; it is read on every
// comparison and replaced whole, so readers need no lock.
var protectionSet atomic.Pointer[map[DeviceKind]Protection]

// ConfigureProtection sets the protection levels of configurable kinds
// for the whole process (the kind table is process-wide, like the kinds
// themselves); a kind left out keeps its default. slsd calls it once,
// before serving. A level must be 1–99: 0 is reserved for unknown kinds
// and 100 would outrank every card.
func ConfigureProtection(levels map[DeviceKind]Protection) error {
	if err := CheckProtection(levels); err != nil {
		return err
	}
	m := maps.Clone(levels)
	protectionSet.Store(&m)
	return nil
}

// CheckProtection reports what ConfigureProtection would refuse.
func CheckProtection(levels map[DeviceKind]Protection) error {
	for k, p := range levels {
		if !slices.Contains(ConfigurableKinds, k) {
			return fmt.Errorf("sls: the protection of %q is not configurable", k)
		}
		if p < 1 || p > 99 {
			return fmt.Errorf("sls: protection of %q must be 1–99, not %d", k, p)
		}
	}
	return nil
}

// Temporary reports whether the kind is a temporary device (SPEC §1:
// SMS, online code card and temporary passcode are temporary methods).
func (k DeviceKind) Temporary() bool { return kindInfo[k].temporary }

// Legacy reports whether the kind is no longer issued.
func (k DeviceKind) Legacy() bool { return kindInfo[k].legacy }

// Physical reports whether the kind is a physical object that is shipped
// and returned (DSC+, and the legacy hardware tokens).
func (k DeviceKind) Physical() bool { return kindInfo[k].physical }

// Title is the English display name of the kind.
func (k DeviceKind) Title() string {
	if t := kindInfo[k].title; t != "" {
		return t
	}
	return string(k)
}

// Assurance returns what proving a device of the kind is worth
// (assurance.go); unknown kinds are worth nothing (fail closed).
func (k DeviceKind) Assurance() Assurance { return kindInfo[k].assurance }

type kindFacts struct {
	title      string
	protection Protection
	temporary  bool
	legacy     bool
	physical   bool
	assurance  Assurance
}

var kindInfo = map[DeviceKind]kindFacts{
	KindDSCPlus:  {"Digital Security Card+", 90, false, false, true, AssuranceDevice},
	KindPlatinum: {"Platinum", 85, false, true, true, AssuranceDevice},
	KindGold:     {"Gold", 85, false, true, true, AssuranceDevice},
	KindDSC:      {"Digital Security Card", 80, false, true, true, AssuranceDevice},
	KindIBKey:    {"SLS Key", 70, false, false, false, AssuranceDevice},
	// A passkey answers only its own origin and needs the user's PIN or
	// biometrics (user verification): phishing-resistant, NIST SP
	// 800-63B §5.2.5. By default it ranks with IB Key, whose limits it
	// gets; both are configurable.
	KindPasskey: {"Passkey", 70, false, false, false, AssuranceDevice},
	// A TOTP app holds a shared secret and its codes can be phished
	// (NIST SP 800-63B §5.1.4); it ranks just above the printed card.
	KindTOTP:       {"Authenticator app (TOTP)", 45, false, false, false, AssuranceDevice},
	KindCodeCard:   {"Security Code Card", 40, false, false, false, AssuranceDevice},
	KindSMS:        {"SMS", 30, true, false, false, AssuranceDevice},
	KindOnlineCard: {"Online Security Code Card", 20, true, false, false, AssuranceDevice},
	// A temporary passcode is a shared secret Client Services read out on
	// the phone: it proves the call, not the possession of a device.
	KindTempPasscode: {"Temporary passcode", 10, true, false, false, AssuranceTemporary},
}

// DeviceState is the lifecycle state of a device.
type DeviceState string

// Device states. Only StateActive devices answer logins.
const (
	StatePending   DeviceState = "pending"   // issued or printed, not yet activated
	StateActive    DeviceState = "active"    // usable for login
	StateSuspended DeviceState = "suspended" // temporarily disabled by an operator
	StateRevoked   DeviceState = "revoked"   // permanently disabled (lost, replaced, migrated…)
	StateExpired   DeviceState = "expired"   // past its validity (online card, temporary passcode)
)

// Device is one security device held by a user. Secret material is never a
// field of Device: each factor keeps its own sealed data (see Secret).
type Device struct {
	ID        string      `json:"id"`
	UserID    string      `json:"user_id"`
	Kind      DeviceKind  `json:"kind"`
	State     DeviceState `json:"state"`
	Serial    string      `json:"serial,omitempty"`
	Label     string      `json:"label,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	// ActivatedAt is when the device became active (zero while pending).
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	// ExpiresAt ends the device's validity (online cards, temporary
	// passcodes); zero means no expiry.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Secret is the sealed secret of the device (card key, code table…).
	// It is opened only by the factor that owns the kind.
	Secret []byte `json:"-"`
	// State the factor keeps between logins (for example the last index pair
	// asked of a code card). Never secret.
	FactorState []byte `json:"-"`
}

// Usable reports whether the device may answer a login at now.
func (d *Device) Usable(now time.Time) bool {
	if d.State != StateActive || !d.Kind.Valid() {
		return false
	}
	return d.ExpiresAt.IsZero() || now.Before(d.ExpiresAt)
}
