package sshkey

import (
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Seed corpora come from the checked-in testdata; the harnesses check that
// nothing panics, that every error is one of the package's, and that what
// is accepted is self-consistent.

func seedFiles(f *testing.F, match func(name string) bool) [][]byte {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, name := range names {
		base := filepath.Base(name)
		if st, err := os.Stat(name); err != nil || st.IsDir() {
			continue // testdata/fuzz holds go test's own corpus
		}
		if base == "gen.sh" || base == "fingerprints.txt" || base == "passphrase.txt" || !match(base) {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var ke *kindError
	if !errors.As(err, &ke) && err != ErrBadMAC && err != ErrWrongPassphrase && err != ErrPassphraseRequired {
		t.Fatalf("error of unexpected type %T: %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), "sshkey: ") {
		t.Fatalf("error without prefix: %v", err)
	}
}

func checkKey(t *testing.T, k Key) {
	t.Helper()
	if k.PublicKey == nil || k.Bits <= 0 || k.Type != k.PublicKey.Type() || k.Fingerprint != ssh.FingerprintSHA256(k.PublicKey) {
		t.Fatalf("inconsistent key %+v", k)
	}
	if k.Type == ssh.KeyAlgoRSA && k.Bits < MinRSABits {
		t.Fatalf("accepted a %d-bit RSA key", k.Bits)
	}
	line := k.AuthorizedKey()
	if strings.ContainsAny(line, "\r\n") {
		t.Fatalf("AuthorizedKey spans lines: %q", line)
	}
	back, err := ParsePublicKey([]byte(line))
	if err != nil {
		t.Fatalf("AuthorizedKey %q does not parse: %v", line, err)
	}
	if back.Fingerprint != k.Fingerprint || back.Comment != k.Comment {
		t.Fatalf("AuthorizedKey round trip: %+v, want %+v", back, k)
	}
}

func FuzzParsePublicKey(f *testing.F) {
	for _, b := range seedFiles(f, func(string) bool { return true }) {
		f.Add(b)
	}
	ed := strings.TrimSpace(string(readTestdata(f, "ed25519.pub")))
	f.Add([]byte(`from="10.1.2.3" ` + ed))
	f.Add([]byte("2048 65537 1234 old@ssh1"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePublicKey(data)
		if err != nil {
			checkError(t, err)
			return
		}
		checkKey(t, k)
	})
}

func FuzzParseRFC4716(f *testing.F) {
	for _, b := range seedFiles(f, func(n string) bool { return strings.HasSuffix(n, ".rfc4716") }) {
		f.Add(b)
	}
	body := "AAAAC3NzaC1lZDI1NTE5AAAAID2NQjVOUebRLsYIf+Mx57SYi4VogWus/skXmMaL\n6v2z\n"
	f.Add([]byte(rfc4716Begin + "\nSubject: a\nComment: \"two \\\nlines \\\"q\\\" \\\\\"\nx-foo: bar\n" + body + rfc4716End))
	f.Add([]byte(rfc4716Begin + "\r\ncomment: unquoted\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + rfc4716End + "\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseRFC4716(data)
		if err != nil {
			checkError(t, err)
			return
		}
		if k.Format != FormatRFC4716 {
			t.Fatalf("format %s", k.Format)
		}
		checkKey(t, k)
	})
}

// cheapKDF keeps the fuzzer from spending its time in Argon2.
func cheapKDF(p *PPK) bool {
	return p.KDF == nil || uint64(p.KDF.MemoryKiB)*uint64(p.KDF.Passes) <= 4096
}

func checkPrivate(t *testing.T, p *PPK, priv crypto.Signer) {
	t.Helper()
	want := p.PublicKey().(ssh.CryptoPublicKey).CryptoPublicKey()
	if !priv.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(want) {
		t.Fatal("accepted a private key that does not match the public key")
	}
}

// FuzzParsePPK parses with and without a passphrase. With skipMAC it also
// feeds the (decrypted) private blob straight to the private-key parser,
// which a fuzzer could otherwise never reach past the MAC.
func FuzzParsePPK(f *testing.F) {
	pass := readTestdata(f, "passphrase.txt")
	for _, b := range seedFiles(f, func(n string) bool { return strings.HasSuffix(n, ".ppk") }) {
		f.Add(b, pass, false)
		f.Add(b, pass, true)
		f.Add(b, []byte{}, false)
		f.Add(b, []byte("wrong"), true)
	}
	f.Fuzz(func(t *testing.T, data, passphrase []byte, skipMAC bool) {
		p, err := ParsePPK(data, nil)
		if err != nil {
			checkError(t, err)
		} else {
			if p.PublicKey() == nil || (p.Version != 2 && p.Version != 3) || p.PublicKey().Type() != p.Algorithm {
				t.Fatalf("inconsistent PPK %+v", p)
			}
			if (p.KDF != nil) != (p.Version == 3 && p.Encrypted()) {
				t.Fatalf("KDF %+v for version %d, encryption %s", p.KDF, p.Version, p.Encryption)
			}
			if k, err := p.Key(); err == nil {
				checkKey(t, k)
			} else {
				checkError(t, err)
			}
			if !p.Encrypted() {
				priv, err := p.PrivateKey(nil)
				if err != nil {
					t.Fatalf("unencrypted file parsed but has no private key: %v", err)
				}
				checkPrivate(t, p, priv)
			} else if len(passphrase) > 0 && cheapKDF(p) {
				q, err := ParsePPK(data, passphrase)
				if err != nil {
					checkError(t, err)
				} else {
					priv, _ := q.PrivateKey(nil)
					checkPrivate(t, q, priv)
				}
			}
		}
		if !skipMAC {
			return
		}
		s, err := parsePPKStructure(data)
		if err != nil {
			return
		}
		plain := s.private
		if s.Encrypted() {
			if !cheapKDF(s) {
				return
			}
			var err error
			if plain, _, err = s.decryptBlob(passphrase); err != nil {
				checkError(t, err)
				return
			}
		}
		if priv, err := s.parsePrivate(plain); err == nil {
			checkPrivate(t, s, priv)
		} else {
			checkError(t, err)
		}
	})
}
