package seal

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpenRoundTrip(t *testing.T) {
	s, err := New(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	p := Place{"devices", "secret", "dev_1"}
	ct, err := s.Seal(p, []byte("card key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("card key")) {
		t.Fatal("plaintext visible in sealed value")
	}
	pt, err := s.Open(p, ct)
	if err != nil || string(pt) != "card key" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}

func TestOpenFailsElsewhere(t *testing.T) {
	s, _ := New(testKey(1))
	ct, _ := s.Seal(Place{"devices", "secret", "dev_1"}, []byte("k"))
	for _, p := range []Place{
		{"devices", "secret", "dev_2"},
		{"devices", "secretx", "dev_1"},
		{"devicessecret", "", "dev_1"},
	} {
		if _, err := s.Open(p, ct); !errors.Is(err, ErrOpen) {
			t.Errorf("Open at %v: %v, want ErrOpen", p, err)
		}
	}
	other, _ := New(testKey(2))
	if _, err := other.Open(Place{"devices", "secret", "dev_1"}, ct); !errors.Is(err, ErrOpen) {
		t.Error("opened with another key")
	}
	tampered := append([]byte(nil), ct...)
	tampered[len(tampered)-1] ^= 1
	if _, err := s.Open(Place{"devices", "secret", "dev_1"}, tampered); !errors.Is(err, ErrOpen) {
		t.Error("opened tampered value")
	}
	for _, junk := range [][]byte{nil, {1}, {1, 1}, {2, 1, 3}} {
		if _, err := s.Open(Place{}, junk); !errors.Is(err, ErrOpen) {
			t.Errorf("opened junk %v", junk)
		}
	}
}

func TestRotation(t *testing.T) {
	old, _ := New(testKey(1))
	p := Place{"t", "c", "r"}
	ct, _ := old.Seal(p, []byte("x"))
	rot, err := NewWithKeys(2, map[byte][]byte{1: testKey(1), 2: testKey(2)})
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := rot.Open(p, ct); err != nil || string(pt) != "x" {
		t.Fatalf("old value after rotation: %q %v", pt, err)
	}
	ct2, _ := rot.Seal(p, []byte("y"))
	if ct2[1] != 2 {
		t.Fatalf("sealed with key %d, want 2", ct2[1])
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "seal.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load differs: %v", err)
	}
	if _, err := ParseKey("zz"); err == nil {
		t.Error("accepted non-hex key")
	}
	if _, err := ParseKey("abcd"); err == nil {
		t.Error("accepted short key")
	}
}

func TestKeyedHashSeparatesPurposes(t *testing.T) {
	s, _ := New(testKey(1))
	a := s.KeyedHash("temppass", []byte("code"))
	b := s.KeyedHash("other", []byte("code"))
	if bytes.Equal(a, b) {
		t.Fatal("purposes not separated")
	}
	s2, _ := New(testKey(2))
	if bytes.Equal(a, s2.KeyedHash("temppass", []byte("code"))) {
		t.Fatal("hash does not depend on key")
	}
}
