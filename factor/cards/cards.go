// Package cards is the factor for code cards: the printed Security Code
// Card (3-character values, lowest protection, legacy) and the Online
// Security Code Card (3-digit values, printed from the portal, valid 21
// days from activation). A login shows two index numbers; the client types
// the values printed beside them. The same pair is not asked twice in a
// row, and the pair asked is remembered even when the answer fails, so a
// client cannot be made to reveal one pair over and over.
package cards

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/codecard"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/seal"
)

// OnlineCardValidity: the online card works for 21 days from activation
// (SPEC §1).
const OnlineCardValidity = 21 * 24 * time.Hour

// Factor implements sls.Factor for one card kind (KindCodeCard or
// KindOnlineCard).
type Factor struct {
	CardKind sls.DeviceKind
	Sealer   *seal.Sealer
	Rand     io.Reader // nil: crypto/rand
}

var _ sls.Factor = (*Factor)(nil)

// Kind implements sls.Factor.
func (f *Factor) Kind() sls.DeviceKind { return f.CardKind }

// PresetFor returns the card shape of a kind.
func PresetFor(kind sls.DeviceKind) (codecard.Preset, error) {
	switch kind {
	case sls.KindCodeCard:
		return codecard.SecurityCodeCard, nil
	case sls.KindOnlineCard:
		return codecard.OnlineCard, nil
	}
	return codecard.Preset{}, fmt.Errorf("cards: %q is not a card kind", kind)
}

// state is the device's factor state: the pair asked last.
type state struct {
	Last [2]int `json:"last"`
}

// NewDevice makes a card of kind for user: the device (pending, card
// sealed) and the card to print. Security Code Cards printed by an
// operator are activated by the caller at once; online cards stay pending
// until the client proves the card was printed (Activate).
func NewDevice(s *seal.Sealer, r io.Reader, kind sls.DeviceKind, userID, serial string, now time.Time) (*sls.Device, codecard.Card, error) {
	preset, err := PresetFor(kind)
	if err != nil {
		return nil, codecard.Card{}, err
	}
	if r == nil {
		r = rand.Reader
	}
	card, err := preset.Generate(r)
	if err != nil {
		return nil, codecard.Card{}, err
	}
	raw, err := codecard.Marshal(card)
	if err != nil {
		return nil, codecard.Card{}, err
	}
	d := &sls.Device{ID: sls.NewID("dev"), UserID: userID, Kind: kind, State: sls.StatePending, Serial: serial, CreatedAt: now}
	if d.Secret, err = s.Seal(factor.SecretPlace(d.ID), raw); err != nil {
		return nil, codecard.Card{}, err
	}
	return d, card, nil
}

// OpenCard returns the card of device d.
func OpenCard(s *seal.Sealer, d *sls.Device) (codecard.Card, error) {
	raw, err := factor.OpenSecret(s, d)
	if err != nil {
		return codecard.Card{}, err
	}
	card, err := codecard.Unmarshal(raw)
	if err != nil {
		return codecard.Card{}, sls.ErrDeviceUnavailable.Wrap(err)
	}
	return card, nil
}

// NextPair picks the index pair to ask of d, different from the last one,
// and records it on d (the caller stores d).
func NextPair(r io.Reader, d *sls.Device, card codecard.Card) ([2]int, error) {
	var st state
	if len(d.FactorState) > 0 {
		_ = json.Unmarshal(d.FactorState, &st) // unreadable state: start afresh
	}
	if r == nil {
		r = rand.Reader
	}
	pair, err := codecard.PickPair(r, card.Len(), st.Last)
	if err != nil {
		return pair, err
	}
	st.Last = pair
	d.FactorState, _ = json.Marshal(st)
	return pair, nil
}

// challengeState is the login's private state: the pair asked.
type challengeState struct {
	Pair [2]int `json:"pair"`
}

// Pending prepares c to prove a pending card at its activation: the pair
// asked is the one the card's print page shows (the last one drawn), not
// a new one.
func Pending(d *sls.Device, c *sls.Challenge) {
	var st state
	_ = json.Unmarshal(d.FactorState, &st) // unreadable state: a pair no answer matches
	c.FactorState, _ = json.Marshal(challengeState{Pair: st.Last})
	c.Prompt = &sls.Prompt{Kind: d.Kind, Indices: []int{st.Last[0], st.Last[1]}}
}

// Challenge implements sls.Factor.
func (f *Factor) Challenge(_ context.Context, _ sls.Tx, _ *sls.User, d *sls.Device, c *sls.Challenge, _ time.Time) error {
	card, err := OpenCard(f.Sealer, d)
	if err != nil {
		return err
	}
	pair, err := NextPair(f.Rand, d, card)
	if err != nil {
		return err
	}
	c.FactorState, _ = json.Marshal(challengeState{Pair: pair})
	c.Prompt = &sls.Prompt{Kind: f.CardKind, Indices: []int{pair[0], pair[1]},
		Message: fmt.Sprintf("Enter the values beside index numbers %d and %d on your %s.", pair[0], pair[1], f.CardKind.Title())}
	return nil
}

// Verify implements sls.Factor.
func (f *Factor) Verify(_ context.Context, _ sls.Tx, _ *sls.User, d *sls.Device, c *sls.Challenge, answer string, _ time.Time) (sls.Verified, error) {
	var cs challengeState
	if err := json.Unmarshal(c.FactorState, &cs); err != nil {
		return sls.Verified{}, sls.ErrDeviceUnavailable.Wrap(err)
	}
	card, err := OpenCard(f.Sealer, d)
	if err != nil {
		return sls.Verified{}, err
	}
	if !codecard.Check(card, cs.Pair, answer) {
		return sls.Verified{}, sls.ErrBadResponse
	}
	return sls.Verified{}, nil
}
