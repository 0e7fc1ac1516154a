package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestRotationKeepsOldValuesAndKeyedHashes(t *testing.T) {
	root := bytes.Repeat([]byte{7}, KeySize)
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	p := Place{"devices", "secret", "dev_1"}
	old, _ := s.Seal(p, []byte("card key"))
	h := s.KeyedHash("purpose", []byte("x"))
	k2, _ := NewDataKey()
	if err := s.SetKeys(2, map[byte][]byte{1: root, 2: k2}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h, s.KeyedHash("purpose", []byte("x"))) {
		t.Fatal("rotating data keys changed keyed hashes")
	}
	if pt, err := s.Open(p, old); err != nil || string(pt) != "card key" {
		t.Fatalf("old value: %q %v", pt, err)
	}
	re, changed, err := s.Reseal(p, old)
	if err != nil || !changed {
		t.Fatalf("reseal: %v %v", changed, err)
	}
	if id, _ := KeyID(re); id != 2 {
		t.Fatalf("resealed under key %d", id)
	}
	if _, changed, _ := s.Reseal(p, re); changed {
		t.Fatal("resealed a value already under the current key")
	}
	// Key 1 retired: values still under it no longer open.
	if err := s.SetKeys(2, map[byte][]byte{2: k2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(p, old); !errors.Is(err, ErrOpen) {
		t.Fatalf("a retired key still opens: %v", err)
	}
	// An unknown key id asks for a reload, at most once per gap.
	calls := 0
	s.SetReload(func() error { calls++; return s.SetKeys(2, map[byte][]byte{1: root, 2: k2}) })
	if pt, err := s.Open(p, old); err != nil || string(pt) != "card key" || calls != 1 {
		t.Fatalf("reload on an unknown key: %q %v %d", pt, err, calls)
	}
	garbage := append([]byte{formatV1, 9}, old[2:]...)
	s.Open(p, garbage)
	s.Open(p, garbage)
	if calls > 2 {
		t.Fatalf("%d reloads for garbage", calls)
	}
}

func TestFileKEK(t *testing.T) {
	kek, err := NewFileKEK(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	dk, _ := NewDataKey()
	w, err := kek.Wrap(dk, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kek.Unwrap(w, 3); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := kek.Unwrap(w, 4); err == nil {
		t.Fatal("a wrapped key opened under another id")
	}
	other, _ := NewFileKEK(bytes.Repeat([]byte{2}, KeySize))
	if _, err := other.Unwrap(w, 3); err == nil {
		t.Fatal("another KEK unwrapped the key")
	}
}
