package argon2id

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestSameAsXCrypto compares Key with x/crypto's IDKey on memory sizes
// around the lane's rounding and the address blocks' length, on one to
// three passes, and on key lengths on both sides of H's 64 bytes.
func TestSameAsXCrypto(t *testing.T) {
	if !haveCompress {
		t.Log("no AVX2: Key is x/crypto's IDKey itself")
	}
	salt := []byte("somesaltsomesalt")
	implementations(t, func(impl string) {
		for _, memory := range []uint32{1, 8, 9, 10, 11, 12, 31, 64, 511, 512, 513, 515, 1024, 4099} {
			for _, time := range []uint32{1, 2, 3} {
				for _, keyLen := range []uint32{1, 16, 32, 64, 65, 100, 128} {
					pw := fmt.Appendf(nil, "password %d %d %d", memory, time, keyLen)
					want := argon2.IDKey(pw, salt, time, memory, 1, keyLen)
					if got := Key(pw, salt, time, memory, 1, keyLen); !bytes.Equal(got, want) {
						t.Fatalf("%s: m=%d t=%d len=%d: got %x, want %x", impl, memory, time, keyLen, got, want)
					}
				}
			}
		}
	})
}

// TestDefaultParameters checks the parameters SLS uses (OWASP's m=19 MiB,
// t=2, p=1), several times, so that reused memory is reused.
func TestDefaultParameters(t *testing.T) {
	implementations(t, func(impl string) {
		for i := range 3 {
			pw := fmt.Appendf(nil, "password %d", i)
			salt := fmt.Appendf(nil, "salt of login %d", i)
			want := argon2.IDKey(pw, salt, 2, 19*1024, 1, 32)
			if got := Key(pw, salt, 2, 19*1024, 1, 32); !bytes.Equal(got, want) {
				t.Fatalf("%s: round %d: got %x, want %x", impl, i, got, want)
			}
		}
	})
}

// TestSmallerAfterLarger reuses a large buffer for a small computation
// and the other way round.
func TestSmallerAfterLarger(t *testing.T) {
	for _, memory := range []uint32{2048, 64, 4096, 8} {
		want := argon2.IDKey([]byte("pw"), []byte("saltsalt"), 1, memory, 1, 32)
		if got := Key([]byte("pw"), []byte("saltsalt"), 1, memory, 1, 32); !bytes.Equal(got, want) {
			t.Fatalf("m=%d: got %x, want %x", memory, got, want)
		}
	}
}

// TestOtherCases are given to x/crypto: several lanes, empty inputs.
func TestOtherCases(t *testing.T) {
	cases := []struct {
		pw, salt     []byte
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}{
		{[]byte("pw"), []byte("saltsalt"), 1, 64, 4, 32},
		{nil, nil, 1, 8, 1, 32},
		{[]byte("pw"), []byte("saltsalt"), 2, 32, 2, 32},
	}
	for _, c := range cases {
		want := argon2.IDKey(c.pw, c.salt, c.time, c.memory, c.threads, c.keyLen)
		if got := Key(c.pw, c.salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, want) {
			t.Fatalf("%+v: got %x, want %x", c, got, want)
		}
	}
}

// FuzzSameAsXCrypto compares Key with x/crypto's IDKey on any password,
// salt and small parameters.
func FuzzSameAsXCrypto(f *testing.F) {
	f.Add([]byte("password"), []byte("somesalt"), uint8(1), uint16(8), uint8(32))
	f.Add([]byte{}, []byte{}, uint8(3), uint16(300), uint8(100))
	f.Fuzz(func(t *testing.T, pw, salt []byte, time uint8, memory uint16, keyLen uint8) {
		tm := uint32(time%3) + 1
		m := uint32(memory % 600)
		kl := uint32(keyLen%128) + 1
		want := argon2.IDKey(pw, salt, tm, m, 1, kl)
		implementations(t, func(impl string) {
			if got := Key(pw, salt, tm, m, 1, kl); !bytes.Equal(got, want) {
				t.Fatalf("%s: m=%d t=%d len=%d: got %x, want %x", impl, m, tm, kl, got, want)
			}
		})
	})
}

// The two benchmarks run the parameters SLS uses: ns/op is one password
// check's hash, and allocated bytes per op show the memory reuse.
//
//	go test ./passhash/argon2id -run '^$' -bench . -benchtime 40x
func BenchmarkKey(b *testing.B) {
	implementations(b, func(impl string) {
		b.Run(impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Key([]byte("a password of ordinary length"), []byte("somesaltsomesalt"), 2, 19*1024, 1, 32)
			}
		})
	})
}

func BenchmarkXCryptoIDKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey([]byte("a password of ordinary length"), []byte("somesaltsomesalt"), 2, 19*1024, 1, 32)
	}
}
