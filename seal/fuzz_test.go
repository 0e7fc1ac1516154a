package seal

import "testing"

// FuzzOpen: sealed values come back from the database and from forms
// (the order draft); any bytes open without a panic, and only what was
// sealed for the place opens.
func FuzzOpen(f *testing.F) {
	s, err := New(testKey(6))
	if err != nil {
		f.Fatal(err)
	}
	place := Place{Table: "t", Column: "c", Row: "r"}
	good, _ := s.Seal(place, []byte("secret"))
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := s.Open(place, b)
		if err == nil && string(pt) != "secret" {
			t.Fatalf("forged value opened: %q", pt)
		}
	})
}

// FuzzParseKey: a key file of any content is refused unless it is hex of
// exactly KeySize bytes.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "00", string(make([]byte, 64)), " 0101010101010101010101010101010101010101010101010101010101010101\n", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseKey(s); err == nil && len(k) != KeySize {
			t.Fatalf("%q gave a %d-byte key", s, len(k))
		}
	})
}

// FuzzUnwrap: wrapped data keys come from the database; a garbled one is
// refused without a panic.
func FuzzUnwrap(f *testing.F) {
	kek, _ := NewFileKEK(make([]byte, KeySize))
	good, _ := kek.Wrap(make([]byte, KeySize), 2)
	f.Add(good, byte(2))
	f.Add([]byte{}, byte(0))
	f.Fuzz(func(t *testing.T, wrapped []byte, id byte) {
		if k, err := kek.Unwrap(wrapped, id); err == nil && len(k) != KeySize {
			t.Fatalf("unwrapped a %d-byte key", len(k))
		}
	})
}
