package sshkey

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

// RFC 9106 §5.1-5.3: t=3, m=32 KiB, p=4, T=32 with password 32×0x01,
// salt 16×0x02, secret 8×0x03 and associated data 12×0x04.
func TestArgon2RFC9106Vectors(t *testing.T) {
	pw := bytes.Repeat([]byte{1}, 32)
	salt := bytes.Repeat([]byte{2}, 16)
	secret := bytes.Repeat([]byte{3}, 8)
	ad := bytes.Repeat([]byte{4}, 12)
	for _, tc := range []struct {
		typ  argon2Type
		name string
		tag  string
	}{
		{argon2d, "Argon2d", "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"},
		{argon2i, "Argon2i", "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"},
		{argon2id, "Argon2id", "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"},
	} {
		got := hex.EncodeToString(argon2Hash(tc.typ, pw, salt, secret, ad, 3, 32, 4, 32))
		if got != tc.tag {
			t.Errorf("%s: tag %s, want %s", tc.name, got, tc.tag)
		}
	}
}

// The Argon2i and Argon2id paths must agree with golang.org/x/crypto/argon2
// over a spread of shapes (several lanes, several address blocks per
// segment, tag lengths on both sides of 64 bytes).
func TestArgon2MatchesXCrypto(t *testing.T) {
	pw := []byte("correct horse battery staple")
	salt := []byte("0123456789abcdef")
	for _, p := range []struct{ passes, mem, lanes, tagLen uint32 }{
		{1, 8, 1, 32}, {1, 64, 1, 80}, {2, 64, 2, 64}, {3, 256, 1, 65},
		{1, 2048, 1, 80}, {2, 1031, 3, 16}, {3, 4096, 4, 128},
	} {
		name := fmt.Sprintf("t%d_m%d_p%d_T%d", p.passes, p.mem, p.lanes, p.tagLen)
		gotI := argon2Hash(argon2i, pw, salt, nil, nil, p.passes, p.mem, p.lanes, p.tagLen)
		wantI := argon2.Key(pw, salt, p.passes, p.mem, uint8(p.lanes), p.tagLen)
		if !bytes.Equal(gotI, wantI) {
			t.Errorf("%s Argon2i differs from x/crypto", name)
		}
		gotID := argon2Hash(argon2id, pw, salt, nil, nil, p.passes, p.mem, p.lanes, p.tagLen)
		wantID := argon2.IDKey(pw, salt, p.passes, p.mem, uint8(p.lanes), p.tagLen)
		if !bytes.Equal(gotID, wantID) {
			t.Errorf("%s Argon2id differs from x/crypto", name)
		}
	}
}
