package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/secure-login-system/sls/ibkey"
)

// stateFormat identifies state files.
const stateFormat = "sls-ibkey-state/1"

// State is the app's file: one instance holding several users. What is
// secret in it (the instance's signing seed, each user's offline key) is
// wrapped under the PIN without a check value (package ibkey, Pad), and
// nothing derived from those secrets is stored next to them — not even
// the public key — so the file alone gives no way to test a PIN guess.
type State struct {
	Format     string    `json:"format"`
	Server     string    `json:"server"`
	Platform   string    `json:"platform"`
	InstanceID string    `json:"instance_id"`
	Token      string    `json:"token"` // the push connection's bearer token (not a PIN-protected secret)
	KDF        ibkey.KDF `json:"kdf"`
	SignSalt   []byte    `json:"sign_salt"`
	SignSeed   []byte    `json:"sign_seed_wrapped"`
	Users      []User    `json:"users"`
	// Pending is an Add User by SMS waiting for its code.
	Pending *Pending `json:"pending_add_user,omitempty"`
}

// User is one user the instance holds.
type User struct {
	UserID      string    `json:"user_id"`
	Username    string    `json:"username"`
	DeviceID    string    `json:"device_id"`
	Salt        []byte    `json:"salt"`
	Key         []byte    `json:"offline_key_wrapped"`
	ActivatedAt time.Time `json:"activated_at"`
}

// Pending is an Add User request by SMS.
type Pending struct {
	PendingID string    `json:"pending_id"`
	Username  string    `json:"username"`
	ExpiresAt time.Time `json:"expires_at"`
}

func loadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no SLS Key state at %s: activate first", path)
		}
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	if st.Format != stateFormat {
		return nil, fmt.Errorf("state %s: format %q, want %q", path, st.Format, stateFormat)
	}
	if err := st.KDF.Validate(); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	if len(st.SignSeed) != ed25519.SeedSize || len(st.SignSalt) < 16 {
		return nil, fmt.Errorf("state %s: damaged signing key", path)
	}
	return &st, nil
}

// save writes the state atomically, readable by the owner only.
func (st *State) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ibkey-state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (st *State) user(name string) (*User, error) {
	if name == "" {
		if len(st.Users) == 1 {
			return &st.Users[0], nil
		}
		return nil, fmt.Errorf("this instance holds %d users: name one with --user", len(st.Users))
	}
	for i := range st.Users {
		if st.Users[i].Username == name || st.Users[i].UserID == name {
			return &st.Users[i], nil
		}
	}
	return nil, fmt.Errorf("this instance does not hold user %q", name)
}

func salt() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return b
}

// signKey unwraps the instance's signing key with the PIN. A wrong PIN
// gives a different key: only the server can tell.
func (st *State) signKey(pin string) (ed25519.PrivateKey, error) {
	pad, err := ibkey.Pad(pin, st.SignSalt, st.KDF, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(ibkey.XOR(st.SignSeed, pad)), nil
}

// offlineKey unwraps a user's offline key with the PIN.
func (st *State) offlineKey(u *User, pin string) ([]byte, error) {
	if len(u.Key) != ibkey.OfflineKeySize {
		return nil, fmt.Errorf("state: damaged key of %s", u.Username)
	}
	pad, err := ibkey.Pad(pin, u.Salt, st.KDF, ibkey.OfflineKeySize)
	if err != nil {
		return nil, err
	}
	return ibkey.XOR(u.Key, pad), nil
}

// wrapUser stores a user's offline key wrapped under the PIN.
func (st *State) wrapUser(u *User, key []byte, pin string) error {
	u.Salt = salt()
	pad, err := ibkey.Pad(pin, u.Salt, st.KDF, ibkey.OfflineKeySize)
	if err != nil {
		return err
	}
	u.Key = ibkey.XOR(key, pad)
	return nil
}

// unlockMethod is how this platform unlocks for an answer: iOS's device
// unlock counts as biometric unless the passcode was used.
func (st *State) unlockMethod(passcode bool) string {
	if st.Platform == ibkey.PlatformIOS && !passcode {
		return ibkey.UnlockBiometric
	}
	return ibkey.UnlockPIN
}
