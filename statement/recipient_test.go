package statement

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// TestParseRecipientGPGKeys uses keys made by GnuPG, the tool the seed
// articles tell clients to use.
func TestParseRecipientGPGKeys(t *testing.T) {
	g := gpgHome(t)
	// Generate every key first: a key created after "now" is not valid yet.
	good := g.genKey(t, "Good <good@example.com>", "future-default", "default", "never")
	rsa := g.genKey(t, "Rsa <rsa@example.com>", "rsa2048", "sign,encr", "never")
	signOnly := g.genKey(t, "Sign Only <sign@example.com>", "ed25519", "sign", "never")
	expiring := g.genKey(t, "Expiring <exp@example.com>", "future-default", "default", "1y")
	g.genKey(t, "Sub <sub@example.com>", "ed25519", "sign", "never")
	fpr := g.fingerprint(t, "sub@example.com")
	g.run(t, "--batch", "--passphrase", "", "--quick-add-key", fpr, "cv25519", "encr", "2d")
	sub := g.run(t, "--batch", "--armor", "--export", "sub@example.com")
	g.genKey(t, "Revoked <rev@example.com>", "future-default", "default", "never")
	now := time.Now().Add(time.Second)

	ent, err := ParseRecipientAt(good, now)
	if err != nil {
		t.Fatalf("good key: %v", err)
	}
	if _, ok := ent.EncryptionKey(now); !ok {
		t.Error("no encryption key")
	}
	// Binary export works too.
	bin := g.run(t, "--batch", "--export", "good@example.com")
	if _, err := ParseRecipientAt(bin, now); err != nil {
		t.Errorf("binary export: %v", err)
	}
	// RSA, as some clients' older tools make, encrypting with the primary key.
	if _, err := ParseRecipientAt(rsa, now); err != nil {
		t.Errorf("rsa key: %v", err)
	}

	if _, err := ParseRecipientAt(signOnly, now); !errors.Is(err, ErrKeyNoEncryption) {
		t.Errorf("sign-only key: %v, want ErrKeyNoEncryption", err)
	}

	// A key that expires in a year, checked two years on.
	if _, err := ParseRecipientAt(expiring, now); err != nil {
		t.Errorf("expiring key now: %v", err)
	}
	if _, err := ParseRecipientAt(expiring, now.AddDate(2, 0, 0)); !errors.Is(err, ErrKeyExpired) {
		t.Errorf("expiring key later: %v, want ErrKeyExpired", err)
	}

	// A primary key that never expires with an encryption subkey that does.
	if _, err := ParseRecipientAt(sub, now); err != nil {
		t.Errorf("subkey key now: %v", err)
	}
	_, err = ParseRecipientAt(sub, now.AddDate(0, 0, 7))
	if !errors.Is(err, ErrKeyExpired) || !strings.Contains(err.Error(), "subkey") {
		t.Errorf("subkey expired: %v, want ErrKeyExpired about the subkey", err)
	}

	// Revoked with the certificate GnuPG writes at generation.
	rfpr := g.fingerprint(t, "rev@example.com")
	cert, err := os.ReadFile(filepath.Join(g.home, "openpgp-revocs.d", rfpr+".rev"))
	if err != nil {
		t.Fatal(err)
	}
	// GnuPG guards the certificate against accidental import with a ':'.
	certFile := filepath.Join(t.TempDir(), "rev.asc")
	os.WriteFile(certFile, bytes.Replace(cert, []byte(":-----BEGIN"), []byte("-----BEGIN"), 1), 0o600)
	g.run(t, "--batch", "--import", certFile)
	revoked := g.run(t, "--batch", "--armor", "--export", "rev@example.com")
	if _, err := ParseRecipientAt(revoked, now); !errors.Is(err, ErrKeyRevoked) {
		t.Errorf("revoked key: %v, want ErrKeyRevoked", err)
	}

	// The secret key, sent by mistake.
	secret := g.run(t, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", "good@example.com")
	if _, err := ParseRecipientAt(secret, now); !errors.Is(err, ErrKeyPrivate) {
		t.Errorf("secret key: %v, want ErrKeyPrivate", err)
	}
	secretBin := g.run(t, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys", "good@example.com")
	if _, err := ParseRecipientAt(secretBin, now); !errors.Is(err, ErrKeyPrivate) {
		t.Errorf("binary secret key: %v, want ErrKeyPrivate", err)
	}

	// Two keys in one file.
	both := g.run(t, "--batch", "--armor", "--export", "good@example.com", "rsa@example.com")
	if _, err := ParseRecipientAt(both, now); !errors.Is(err, ErrKeyCount) {
		t.Errorf("two keys: %v, want ErrKeyCount", err)
	}
}

func TestParseRecipientGarbage(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":      nil,
		"spaces":     []byte("   \n"),
		"text":       []byte("hello, here is my key"),
		"ssh key":    []byte("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== me@host"),
		"bad armor":  []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64!!\n-----END PGP PUBLIC KEY BLOCK-----\n"),
		"message":    []byte("-----BEGIN PGP MESSAGE-----\n\nhQEMA5\n=abcd\n-----END PGP MESSAGE-----\n"),
		"binary":     {0x99, 0x01, 0x0d, 0x04, 0xff},
		"huge":       bytes.Repeat([]byte{0x99}, MaxKeySize+1),
		"truncated":  armoredKey(t)[:200],
		"signature?": {0x88, 0x02, 0x04, 0x00},
	} {
		_, err := ParseRecipientAt(in, testNow)
		if !errors.Is(err, ErrKeyGarbage) && !errors.Is(err, ErrKeyPrivate) {
			t.Errorf("%s: %v, want ErrKeyGarbage", name, err)
		}
	}
}

func TestParseRecipientNotYetValid(t *testing.T) {
	// A key stamped in the future points at a wrong clock somewhere.
	if _, err := ParseRecipientAt(armoredKey(t), testNow.Add(-24*time.Hour)); !errors.Is(err, ErrKeyNotYetValid) {
		t.Errorf("future key: %v, want ErrKeyNotYetValid", err)
	}
}

func TestParseRecipientGoCryptoKey(t *testing.T) {
	ent, err := ParseRecipientAt(armoredKey(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if ent.PrivateKey != nil {
		t.Error("private key present")
	}
}

func armoredKey(t testing.TB) []byte {
	t.Helper()
	ent := newEntity(t)
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ent.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func FuzzParseRecipient(f *testing.F) {
	key := armoredKey(f)
	f.Add(key)
	var bin bytes.Buffer
	ent := newEntity(f)
	ent.Serialize(&bin)
	f.Add(bin.Bytes())
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Add([]byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n"))
	f.Add([]byte{0x99, 0x00, 0x01})
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseRecipientAt(data, testNow)
		if err == nil {
			if e == nil {
				t.Fatal("nil entity without error")
			}
			if _, ok := e.EncryptionKey(testNow); !ok {
				t.Fatal("accepted a key without an encryption key")
			}
			if e.PrivateKey != nil {
				t.Fatal("accepted a private key")
			}
		}
	})
}
