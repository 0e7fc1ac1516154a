// Package factor holds what the device-kind packages below it share: where
// a device's sealed secret lives, random challenge codes, and the digest
// under which an accepted response is remembered to refuse replays. Each
// sub-package implements sls.Factor for one kind of device.
package factor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/seal"
)

// SecretPlace is where device d's secret is sealed: binding the row id
// means a sealed card key copied to another device row does not open.
func SecretPlace(deviceID string) seal.Place {
	return seal.Place{Table: "devices", Column: "secret", Row: deviceID}
}

// OpenSecret opens the sealed secret of d; a secret that does not open is
// an unusable device (fail closed), never a panic.
func OpenSecret(s *seal.Sealer, d *sls.Device) ([]byte, error) {
	pt, err := s.Open(SecretPlace(d.ID), d.Secret)
	if err != nil {
		return nil, sls.ErrDeviceUnavailable.Wrap(fmt.Errorf("factor: device %s: %w", d.ID, err))
	}
	return pt, nil
}

// Digits returns n random decimal digits from r (crypto/rand when nil),
// uniformly distributed.
func Digits(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(r, max)
	if err != nil {
		return "", fmt.Errorf("factor: random digits: %w", err)
	}
	return fmt.Sprintf("%0*d", n, v), nil
}

// ResponseDigest names an accepted (challenge, response) pair of a device
// for sls.DeviceStore.MarkResponseUsed.
func ResponseDigest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// maxDraws bounds the draws of a challenge whose response is not yet
// used. A device answers a few hundred challenges a year out of a
// million, so a second draw is rare and an eighth is a broken random
// source, which fails closed.
const maxDraws = 8

// FreshChallenge draws an n-digit challenge whose expected response the
// device has not already given. Accepted responses are remembered (see
// sls.DeviceStore.MarkResponseUsed), and a challenge that came up again
// would make the right response be refused as a replay and counted
// toward the lock-out. expected computes the response a challenge asks
// for, in the form the factor records it.
func FreshChallenge(ctx context.Context, tx sls.Tx, r io.Reader, n int, deviceID string, now time.Time,
	expected func(challenge string) (string, error)) (string, error) {
	for range maxDraws {
		ch, err := Digits(r, n)
		if err != nil {
			return "", err
		}
		want, err := expected(ch)
		if err != nil {
			return "", sls.ErrDeviceUnavailable.Wrap(err)
		}
		used, err := tx.ResponseUsed(ctx, deviceID, ResponseDigest(ch, want), now)
		if err != nil {
			return "", err
		}
		if !used {
			return ch, nil
		}
	}
	return "", sls.ErrDeviceUnavailable.Wrap(fmt.Errorf("factor: no unused challenge in %d draws", maxDraws))
}

// EnrollingUser locks userID's row for an enrolment in tx and lists the
// user's devices: a disabled or deleted user is not found, and two
// enrolments for one user (on any node) take turns, so a per-user cap
// holds.
func EnrollingUser(ctx context.Context, tx sls.Tx, userID string) (*sls.User, []*sls.Device, error) {
	u, err := tx.UserForUpdate(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	if u.Inactive() {
		return nil, nil, sls.Errorf(sls.CodeNotFound, "No such user.")
	}
	devices, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	return u, devices, nil
}
