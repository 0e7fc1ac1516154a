package sls

import (
	"context"
	"fmt"
	"time"
)

// Factor proves the possession of one device kind: at login, at a
// step-up, to confirm a withdrawal, to activate a card. Each kind lives in
// its own package under factor/ and is registered in one explicit list by
// the program that wires the server (package server). Factors prepare and
// check a Challenge; only the verifier (package verify) calls them and
// counts the answers.
//
// Both methods run inside the caller's store transaction, so anything they
// write (a queued SMS, a used-response record, the device's factor state)
// commits or rolls back with the challenge.
type Factor interface {
	Kind() DeviceKind
	// Challenge prepares the device's screen: it sets c.Prompt (what the
	// caller sees) and c.FactorState (what only the server keeps), and
	// may shorten c.Deadline to the factor's own lifetime. It may change
	// d.FactorState; the caller stores d afterwards.
	Challenge(ctx context.Context, tx Tx, u *User, d *Device, c *Challenge, now time.Time) error
	// Verify checks answer against the challenge prepared in c. It returns
	// ErrBadResponse when the answer is wrong (the verifier counts the
	// attempt toward the challenge's and the user's limits), and must
	// compare in constant time. On success it may mark the response used,
	// so that it is never accepted again. The caller stores d afterwards.
	Verify(ctx context.Context, tx Tx, u *User, d *Device, c *Challenge, answer string, now time.Time) (Verified, error)
}

// Verified carries what a successful answer tells about how the user
// authenticated.
type Verified struct {
	// Biometric: an IB Key approval unlocked with device biometrics rather
	// than a PIN (SPEC §2.5 access duration).
	Biometric bool
}

// Factors is the set of factors the server offers, by kind.
type Factors map[DeviceKind]Factor

// NewFactors builds the set; two factors for one kind is a wiring bug.
func NewFactors(fs ...Factor) (Factors, error) {
	m := Factors{}
	for _, f := range fs {
		if _, dup := m[f.Kind()]; dup {
			return nil, fmt.Errorf("sls: two factors for kind %q", f.Kind())
		}
		m[f.Kind()] = f
	}
	return m, nil
}

// Availability is implemented by factors whose devices can be active yet
// not usable for a while (SMS right after a number change) or because of
// the user's other devices (a temporary passcode once a permanent device
// is active). Devices for which Available is false are not offered at
// login and do not answer. devices holds every device of u, in any state.
type Availability interface {
	Available(u *User, d *Device, devices []*Device, now time.Time) bool
}

// DeviceAvailable reports whether d, of a kind f answers, may answer for u
// at now: it is usable (Device.Usable) and, when f implements
// Availability, available. It reads u's devices only when f needs them.
func DeviceAvailable(ctx context.Context, tx Tx, f Factor, u *User, d *Device, now time.Time) (bool, error) {
	if f == nil || !d.Usable(now) || d.UserID != u.ID {
		return false, nil
	}
	av, ok := f.(Availability)
	if !ok {
		return true, nil
	}
	devices, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return av.Available(u, d, devices, now), nil
}
