package sshkey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

var ppkFiles = []struct {
	file, key, alg string
	version        int
	encryption     string
	kdf            string
}{
	{"rsa2048-v3-argon2id.ppk", "rsa2048", "ssh-rsa", 3, "aes256-cbc", "Argon2id"},
	{"rsa2048-v2-aes.ppk", "rsa2048", "ssh-rsa", 2, "aes256-cbc", ""},
	{"rsa2048-v3-none.ppk", "rsa2048", "ssh-rsa", 3, "none", ""},
	{"ed25519-v3-argon2d.ppk", "ed25519", "ssh-ed25519", 3, "aes256-cbc", "Argon2d"},
	{"ed25519-v2-none.ppk", "ed25519", "ssh-ed25519", 2, "none", ""},
	{"ed25519-v3-argon2id-default.ppk", "ed25519", "ssh-ed25519", 3, "aes256-cbc", "Argon2id"},
	{"ecdsa256-v3-argon2i.ppk", "ecdsa256", "ecdsa-sha2-nistp256", 3, "aes256-cbc", "Argon2i"},
	{"ecdsa384-v2-aes.ppk", "ecdsa384", "ecdsa-sha2-nistp384", 2, "aes256-cbc", ""},
	{"ecdsa521-v3-none.ppk", "ecdsa521", "ecdsa-sha2-nistp521", 3, "none", ""},
}

func TestParsePPKTestdata(t *testing.T) {
	fps := referenceFingerprints(t)
	pass := testPassphrase(t)
	for _, tc := range ppkFiles {
		t.Run(tc.file, func(t *testing.T) {
			data := readTestdata(t, tc.file)
			pub, err := ParsePublicKey(readTestdata(t, tc.key+".pub"))
			if err != nil {
				t.Fatal(err)
			}

			// Without the passphrase: the public part only.
			p, err := ParsePPK(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != tc.version || p.Algorithm != tc.alg || p.Encryption != tc.encryption ||
				p.Comment != tc.key+" test key" || p.Encrypted() != (tc.encryption != "none") {
				t.Errorf("header: %+v", p)
			}
			if (p.KDF == nil) != (tc.kdf == "") || (p.KDF != nil && (p.KDF.Variant != tc.kdf ||
				len(p.KDF.Salt) != 16 || p.KDF.Parallelism != 1 || p.KDF.Passes == 0 || p.KDF.MemoryKiB == 0)) {
				t.Errorf("KDF: %+v", p.KDF)
			}
			if fp := ssh.FingerprintSHA256(p.PublicKey()); fp != fps[tc.key] {
				t.Errorf("fingerprint %s, want %s", fp, fps[tc.key])
			}
			k, err := p.Key()
			if err != nil || k.Fingerprint != fps[tc.key] || k.Format != FormatPPK || k.Comment != p.Comment {
				t.Errorf("Key() = %+v, %v", k, err)
			}
			if p.Encrypted() {
				if _, err := p.PrivateKey(nil); !errors.Is(err, ErrPassphraseRequired) {
					t.Errorf("PrivateKey(nil) on encrypted file: %v", err)
				}
				if _, err := p.PrivateKey([]byte("wrong")); err != ErrWrongPassphrase {
					t.Errorf("PrivateKey(wrong): %v", err)
				}
			}
			// The private key, decrypted later, signs for the public key.
			signAndVerify(t, p, pass, pub.PublicKey)

			// With the passphrase up front.
			p2, err := ParsePPK(data, pass)
			if err != nil {
				t.Fatal(err)
			}
			signAndVerify(t, p2, nil, pub.PublicKey)
			s1, _ := p.PrivateKey(pass)
			s2, _ := p2.PrivateKey(nil)
			if !s1.(interface{ Equal(crypto.PrivateKey) bool }).Equal(s2) {
				t.Error("private keys differ between eager and late decryption")
			}
		})
	}
}

func TestParsePPKWrongPassphrase(t *testing.T) {
	for _, tc := range ppkFiles {
		if tc.encryption == "none" {
			continue
		}
		_, err := ParsePPK(readTestdata(t, tc.file), []byte("correct horse battery stapler"))
		if err != ErrWrongPassphrase || err.Error() != "sshkey: wrong passphrase or corrupted file" {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
}

// edit applies a text substitution that must take place.
func edit(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("edit: %q not found", old)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

func lineWithPrefix(t *testing.T, data []byte, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starts with %q", prefix)
	return ""
}

// ppkLine returns line i (0-based) of a testdata file.
func ppkLine(t *testing.T, data []byte, i int) string {
	return strings.Split(string(data), "\n")[i]
}

func TestParsePPKRejects(t *testing.T) {
	ed := readTestdata(t, "ed25519-v2-none.ppk")       // v2, unencrypted: MAC checked at parse
	rsa3 := readTestdata(t, "rsa2048-v3-argon2id.ppk") // v3, encrypted
	rsaNone := readTestdata(t, "rsa2048-v3-none.ppk")
	pass := testPassphrase(t)
	lines := strings.Split(string(rsa3), "\n")
	lastPriv := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "Private-MAC") {
			lastPriv = i - 1
		}
	}

	for _, tc := range []struct {
		name string
		in   []byte
		pass []byte
		kind error
		msg  string
	}{
		{"garbage", []byte("PuTTY-User-Key-File-3 nonsense"), nil, ErrMalformed, "not a PuTTY key file"},
		{"version 1", edit(t, ed, "File-2", "File-1"), nil, ErrUnsupported, "version 1 is not supported"},
		{"version 4", edit(t, ed, "File-2", "File-4"), nil, ErrUnsupported, "unknown PuTTY key file format version \"4\""},
		{"unknown encryption", edit(t, ed, "Encryption: none", "Encryption: aes128-ctr"), nil, ErrUnsupported, "unknown encryption \"aes128-ctr\""},
		{"unknown encryption v3", edit(t, rsa3, "Encryption: aes256-cbc", "Encryption: 3des-cbc"), pass, ErrUnsupported, "unknown encryption"},
		{"dsa", readTestdata(t, "dsa-v3-none.ppk"), nil, ErrUnsupported, "DSA"},
		{"ed448", edit(t, ed, "ssh-ed25519", "ssh-ed448"), nil, ErrUnsupported, "\"ssh-ed448\" is not accepted"},
		{"type mismatch", edit(t, ed, "ssh-ed25519", "ssh-rsa"), nil, ErrMalformed, "first line says \"ssh-rsa\" but the public key is \"ssh-ed25519\""},
		{"bad MAC: comment edited", edit(t, ed, "Comment: ed25519 test key", "Comment: ed25519 test kez"), nil, ErrBadMAC, "MAC check failed"},
		{"bad MAC: digit flipped", flipMAC(t, ed), nil, ErrBadMAC, "MAC check failed"},
		{"bad MAC: private data edited", edit(t, ed, "Private-Lines: 1\nAAAAI", "Private-Lines: 1\nAAAAJ"), nil, ErrBadMAC, "MAC check failed"},
		{"encrypted comment edited", edit(t, rsa3, "Comment: rsa2048 test key", "Comment: rsa2048 test kez"), pass, ErrWrongPassphrase, "wrong passphrase or corrupted file"},
		{"missing space", edit(t, ed, "Encryption: none", "Encryption:none"), nil, ErrMalformed, "expected a space after \"Encryption:\""},
		{"header order", edit(t, edit(t, ed, "Encryption: none", "Comment: x"), "Comment: ed25519 test key", "Encryption: none"), nil, ErrMalformed, "expected the \"Encryption\" header"},
		{"public lines +1", edit(t, ed, "Public-Lines: 2", "Public-Lines: 3"), nil, ErrMalformed, "line 7: expected line 3 of 3 of public key data"},
		{"public lines -1", edit(t, ed, "Public-Lines: 2", "Public-Lines: 1"), nil, ErrMalformed, "expected the \"Private-Lines\" header"},
		{"public lines leading zero", edit(t, ed, "Public-Lines: 2", "Public-Lines: 02"), nil, ErrMalformed, "Public-Lines must be a number from 1 to 256"},
		{"public lines zero", edit(t, ed, "Public-Lines: 2", "Public-Lines: 0"), nil, ErrMalformed, "Public-Lines must be a number"},
		{"public lines negative", edit(t, ed, "Public-Lines: 2", "Public-Lines: -2"), nil, ErrMalformed, "Public-Lines must be a number"},
		{"public lines huge", edit(t, ed, "Public-Lines: 2", "Public-Lines: 99999999999"), nil, ErrMalformed, "Public-Lines must be a number"},
		{"private lines +1", edit(t, ed, "Private-Lines: 1", "Private-Lines: 2"), nil, ErrMalformed, "of private key data"},
		{"bad base64 char", edit(t, ed, "AAAAC3", "AAAAC*"), nil, ErrMalformed, "public key data is not valid base64"},
		{"long base64 line", []byte(strings.Replace(string(edit(t, ed, "Public-Lines: 2", "Public-Lines: 1")), "\n"+ppkLine(t, ed, 5), ppkLine(t, ed, 5), 1)), nil, ErrMalformed, "at most 64 characters"},
		{"MAC length", edit(t, ed, "Private-MAC: ", "Private-MAC: 00"), nil, ErrMalformed, "Private-MAC must be 40 hexadecimal digits"},
		{"MAC not hex", edit(t, ed, "Private-MAC: ", "Private-MAC: zz")[:len(ed)], nil, ErrMalformed, "Private-MAC must be"},
		{"trailing data", append(append([]byte{}, ed...), "Extra: 1\n"...), nil, ErrMalformed, "unexpected data after Private-MAC"},
		{"v3 MAC length", edit(t, rsaNone, "Private-MAC: ", "Private-MAC: 00"), nil, ErrMalformed, "Private-MAC must be 64 hexadecimal digits"},
		{"unknown kdf", edit(t, rsa3, "Key-Derivation: Argon2id", "Key-Derivation: scrypt"), nil, ErrUnsupported, "unknown key derivation \"scrypt\""},
		{"kdf header missing", edit(t, rsa3, "Key-Derivation: Argon2id\n", ""), nil, ErrMalformed, "expected the \"Key-Derivation\" header"},
		{"kdf on unencrypted", edit(t, rsaNone, "Private-Lines", "Key-Derivation: Argon2id\nPrivate-Lines"), nil, ErrMalformed, "expected the \"Private-Lines\" header"},
		{"argon2 memory zero", edit(t, rsa3, "Argon2-Memory: 64", "Argon2-Memory: 0"), nil, ErrMalformed, "Argon2-Memory must be"},
		{"argon2 memory per lane", edit(t, rsa3, "Argon2-Parallelism: 1", "Argon2-Parallelism: 9"), nil, ErrMalformed, "below the minimum of 8 KiB per lane"},
		{"argon2 parallelism zero", edit(t, rsa3, "Argon2-Parallelism: 1", "Argon2-Parallelism: 0"), nil, ErrMalformed, "Argon2-Parallelism must be a number from 1 to 255"},
		{"argon2 passes zero", edit(t, rsa3, "Argon2-Passes: 1", "Argon2-Passes: 0"), nil, ErrMalformed, "Argon2-Passes must be"},
		{"argon2 salt not hex", edit(t, rsa3, "Argon2-Salt: ", "Argon2-Salt: xy"), nil, ErrMalformed, "Argon2-Salt must be"},
		{"argon2 salt short", []byte(strings.Replace(string(rsa3), lineWithPrefix(t, rsa3, "Argon2-Salt: "), "Argon2-Salt: 0011", 1)), nil, ErrMalformed, "Argon2-Salt must be"},
		{"argon2 too much memory", edit(t, rsa3, "Argon2-Memory: 64", "Argon2-Memory: 4000000"), pass, ErrUnsupported, "above this system's limit"},
		{"argon2 too much work", edit(t, rsa3, "Argon2-Passes: 1", "Argon2-Passes: 4000000"), pass, ErrUnsupported, "above this system's limit"},
		{"encrypted length", []byte(strings.Replace(string(rsa3), lines[lastPriv], lines[lastPriv][:len(lines[lastPriv])-4], 1)), nil, ErrMalformed, "not a multiple of the AES block size"},
		{"truncated", ed[:len(ed)/2], nil, ErrMalformed, "truncated"},
		{"too large", append(append([]byte{}, ed...), bytes.Repeat([]byte("\n"), maxInput)...), nil, ErrMalformed, "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePPK(tc.in, tc.pass)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "sshkey: ") {
				t.Errorf("error %q, want %v mentioning %q", err, tc.kind, tc.msg)
			}
		})
	}
}

// Every truncation of every file fails cleanly (no panic, a package error).
func TestParsePPKTruncated(t *testing.T) {
	for _, tc := range ppkFiles {
		data := readTestdata(t, tc.file)
		for n := 0; n < len(bytes.TrimSpace(data)); n++ {
			_, err := ParsePPK(data[:n], nil)
			if err == nil {
				t.Fatalf("%s truncated to %d bytes accepted", tc.file, n)
			}
			var ke *kindError
			if !errors.As(err, &ke) && !errors.Is(err, ErrBadMAC) {
				t.Fatalf("%s truncated to %d bytes: %v", tc.file, n, err)
			}
		}
	}
}

// buildPPK writes an unencrypted .ppk file with a correct MAC, so that the
// private-blob checks can be tested past the MAC.
func buildPPK(version int, alg, comment string, pub, priv []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "PuTTY-User-Key-File-%d: %s\nEncryption: none\nComment: %s\n", version, alg, comment)
	writeLines := func(name string, blob []byte) {
		s := strictB64.EncodeToString(blob)
		n := (len(s) + 63) / 64
		fmt.Fprintf(&b, "%s-Lines: %d\n", name, n)
		for len(s) > 64 {
			b.WriteString(s[:64] + "\n")
			s = s[64:]
		}
		b.WriteString(s + "\n")
	}
	writeLines("Public", pub)
	writeLines("Private", priv)
	p := &PPK{Version: version, Algorithm: alg, Encryption: "none", Comment: comment, pubBlob: pub}
	var mac []byte
	if version == 2 {
		h := hmac.New(sha1.New, macKeyV2(nil))
		h.Write(p.macData(priv))
		mac = h.Sum(nil)
	} else {
		h := hmac.New(sha256.New, nil)
		h.Write(p.macData(priv))
		mac = h.Sum(nil)
	}
	fmt.Fprintf(&b, "Private-MAC: %s\n", hex.EncodeToString(mac))
	return []byte(b.String())
}

func TestBuildPPKReproducesPuttygen(t *testing.T) {
	for _, name := range []string{"ed25519-v2-none.ppk", "rsa2048-v3-none.ppk", "ecdsa521-v3-none.ppk"} {
		data := readTestdata(t, name)
		p, err := ParsePPK(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := buildPPK(p.Version, p.Algorithm, p.Comment, p.pubBlob, p.private); !bytes.Equal(got, data) {
			t.Errorf("%s: rebuilt file differs:\n%s\nwant\n%s", name, got, data)
		}
	}
}

func TestParsePPKPrivatePart(t *testing.T) {
	rsaP, _ := ParsePPK(readTestdata(t, "rsa2048-v3-none.ppk"), nil)
	edP, _ := ParsePPK(readTestdata(t, "ed25519-v2-none.ppk"), nil)
	ecP, _ := ParsePPK(readTestdata(t, "ecdsa521-v3-none.ppk"), nil)
	rk, _ := rsaP.PrivateKey(nil)
	r := rk.(*rsa.PrivateKey)
	mp := func(xs ...*big.Int) []byte {
		var b []byte
		for _, x := range xs {
			v := x.Bytes()
			if len(v) > 0 && v[0]&0x80 != 0 {
				v = append([]byte{0}, v...)
			}
			b = appendString(b, v)
		}
		return b
	}
	one := big.NewInt(1)
	ek, _ := edP.PrivateKey(nil)
	seed := ek.(ed25519.PrivateKey).Seed()
	otherSeed := bytes.Repeat([]byte{7}, 32)
	eck, _ := ecP.PrivateKey(nil)
	n521 := eck.(*ecdsa.PrivateKey).Curve.Params().N

	for _, tc := range []struct {
		name string
		p    *PPK
		priv []byte
		msg  string
	}{
		{"rsa ok", rsaP, mp(r.D, r.Primes[0], r.Primes[1], r.Precomputed.Qinv), ""},
		{"rsa trailing", rsaP, append(mp(r.D, r.Primes[0], r.Primes[1], r.Precomputed.Qinv), 0), "trailing garbage"},
		{"rsa truncated", rsaP, mp(r.D, r.Primes[0], r.Primes[1]), "truncated"},
		{"rsa wrong prime", rsaP, mp(r.D, new(big.Int).Add(r.Primes[0], big.NewInt(2)), r.Primes[1], r.Precomputed.Qinv), "does not match"},
		{"rsa p=1", rsaP, mp(r.D, one, r.N, one), "does not match"},
		{"rsa wrong iqmp", rsaP, mp(r.D, r.Primes[0], r.Primes[1], one), "does not match"},
		{"rsa wrong d", rsaP, mp(new(big.Int).Add(r.D, one), r.Primes[0], r.Primes[1], r.Precomputed.Qinv), "not valid"},
		{"rsa negative", rsaP, appendString(nil, []byte{0x80}), "negative"},
		{"rsa leading zero", rsaP, appendString(nil, []byte{0, 1}), "leading zero"},
		{"ed25519 ok", edP, appendString(nil, seed), ""},
		{"ed25519 short", edP, appendString(nil, seed[:31]), "Ed25519 private key is 31 bytes"},
		{"ed25519 other", edP, appendString(nil, otherSeed), "does not match"},
		{"ecdsa zero", ecP, mp(big.NewInt(0)), "not valid"},
		{"ecdsa order", ecP, mp(n521), "not valid"},
		{"ecdsa too big", ecP, mp(new(big.Int).Lsh(one, 600)), "too large"},
		{"ecdsa other", ecP, mp(big.NewInt(12345)), "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := buildPPK(tc.p.Version, tc.p.Algorithm, tc.p.Comment, tc.p.pubBlob, tc.priv)
			_, err := ParsePPK(data, nil)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one mentioning %q", err, tc.msg)
			}
			// The public part stays readable: ParsePublicKey does not read
			// the private blob, only checks the MAC.
			if _, err := ParsePublicKey(data); err != nil {
				t.Errorf("ParsePublicKey: %v", err)
			}
		})
	}
}

func flipMAC(t *testing.T, data []byte) []byte {
	mac := lineWithPrefix(t, data, "Private-MAC: ")
	c := byte('0')
	if mac[len(mac)-1] == '0' {
		c = '1'
	}
	return edit(t, data, mac, mac[:len(mac)-1]+string(c))
}
