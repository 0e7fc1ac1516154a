package sshkey

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func testPassphrase(tb testing.TB) []byte { return readTestdata(tb, "passphrase.txt") }

// referenceFingerprints are the ones ssh-keygen -l computed when gen.sh ran.
func referenceFingerprints(tb testing.TB) map[string]string {
	tb.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(readTestdata(tb, "fingerprints.txt"))), "\n") {
		name, fp, _ := strings.Cut(line, " ")
		m[name] = fp
	}
	return m
}

// Every checked-in form of each accepted key yields ssh-keygen's fingerprint.
func TestParsePublicKeyTestdata(t *testing.T) {
	fps := referenceFingerprints(t)
	for _, tc := range []struct {
		file, key, typ string
		bits           int
		format         Format
		comment        string
	}{
		{"rsa2048.pub", "rsa2048", "ssh-rsa", 2048, FormatOpenSSH, "rsa2048 test key"},
		{"rsa2048.rfc4716", "rsa2048", "ssh-rsa", 2048, FormatRFC4716, "rsa2048 test key"},
		{"rsa2048.ssh-keygen.rfc4716", "rsa2048", "ssh-rsa", 2048, FormatRFC4716, "2048-bit RSA, converted by root@vm from OpenSSH"},
		{"rsa2048.pkcs1.pem", "rsa2048", "ssh-rsa", 2048, FormatPKCS1, ""},
		{"rsa2048.pkix.pem", "rsa2048", "ssh-rsa", 2048, FormatPKIX, ""},
		{"rsa2048-v3-argon2id.ppk", "rsa2048", "ssh-rsa", 2048, FormatPPK, "rsa2048 test key"},
		{"rsa2048-v2-aes.ppk", "rsa2048", "ssh-rsa", 2048, FormatPPK, "rsa2048 test key"},
		{"rsa2048-v3-none.ppk", "rsa2048", "ssh-rsa", 2048, FormatPPK, "rsa2048 test key"},
		{"ed25519.pub", "ed25519", "ssh-ed25519", 256, FormatOpenSSH, "ed25519 test key"},
		{"ed25519.rfc4716", "ed25519", "ssh-ed25519", 256, FormatRFC4716, "ed25519 test key"},
		{"ed25519-v3-argon2d.ppk", "ed25519", "ssh-ed25519", 256, FormatPPK, "ed25519 test key"},
		{"ed25519-v2-none.ppk", "ed25519", "ssh-ed25519", 256, FormatPPK, "ed25519 test key"},
		{"ed25519-v3-argon2id-default.ppk", "ed25519", "ssh-ed25519", 256, FormatPPK, "ed25519 test key"},
		{"ecdsa256.pub", "ecdsa256", "ecdsa-sha2-nistp256", 256, FormatOpenSSH, "ecdsa256 test key"},
		{"ecdsa256.pkix.pem", "ecdsa256", "ecdsa-sha2-nistp256", 256, FormatPKIX, ""},
		{"ecdsa256-v3-argon2i.ppk", "ecdsa256", "ecdsa-sha2-nistp256", 256, FormatPPK, "ecdsa256 test key"},
		{"ecdsa384.pub", "ecdsa384", "ecdsa-sha2-nistp384", 384, FormatOpenSSH, "ecdsa384 test key"},
		{"ecdsa384.rfc4716", "ecdsa384", "ecdsa-sha2-nistp384", 384, FormatRFC4716, "ecdsa384 test key"},
		{"ecdsa384-v2-aes.ppk", "ecdsa384", "ecdsa-sha2-nistp384", 384, FormatPPK, "ecdsa384 test key"},
		{"ecdsa521.pub", "ecdsa521", "ecdsa-sha2-nistp521", 521, FormatOpenSSH, "ecdsa521 test key"},
		{"ecdsa521-v3-none.ppk", "ecdsa521", "ecdsa-sha2-nistp521", 521, FormatPPK, "ecdsa521 test key"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			k, err := ParsePublicKey(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want := Key{Type: tc.typ, Bits: tc.bits, Comment: tc.comment, Fingerprint: fps[tc.key], Format: tc.format}
			got := k
			got.PublicKey = nil
			if got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			if fp := ssh.FingerprintSHA256(k.PublicKey); fp != fps[tc.key] {
				t.Errorf("PublicKey fingerprint %s, want %s", fp, fps[tc.key])
			}
			// The storage form reads back to the same key and comment.
			back, err := ParsePublicKey([]byte(k.AuthorizedKey()))
			if err != nil {
				t.Fatalf("AuthorizedKey %q: %v", k.AuthorizedKey(), err)
			}
			if back.Fingerprint != k.Fingerprint || back.Comment != k.Comment || back.Format != FormatOpenSSH {
				t.Errorf("AuthorizedKey round trip: %+v", back)
			}
		})
	}
}

func TestAuthorizedKeyMatchesPuttygen(t *testing.T) {
	for _, name := range []string{"rsa2048.pub", "ed25519.pub", "ecdsa384.pub"} {
		in := strings.TrimSpace(string(readTestdata(t, name)))
		k, err := ParsePublicKey([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if k.AuthorizedKey() != in {
			t.Errorf("%s: AuthorizedKey\n%s\nwant\n%s", name, k.AuthorizedKey(), in)
		}
	}
	k, _ := ParsePublicKey(readTestdata(t, "rsa2048.pkix.pem"))
	if strings.HasSuffix(k.AuthorizedKey(), " ") || strings.Contains(k.AuthorizedKey(), "\n") {
		t.Errorf("AuthorizedKey without comment: %q", k.AuthorizedKey())
	}
}

// What arrives by e-mail: CRLF, a byte order mark, blank lines around it.
func TestParsePublicKeyTolerance(t *testing.T) {
	fps := referenceFingerprints(t)
	crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
	for name, in := range map[string][]byte{
		"openssh crlf":     crlf(readTestdata(t, "ed25519.pub")),
		"openssh bom":      append([]byte("\xef\xbb\xbf"), readTestdata(t, "ed25519.pub")...),
		"openssh padded":   []byte("\n\n  \t" + string(readTestdata(t, "ed25519.pub")) + "\n\n"),
		"openssh tabs":     []byte(strings.Replace(string(readTestdata(t, "ed25519.pub")), " ", "\t", 1)),
		"rfc4716 crlf":     crlf(readTestdata(t, "ed25519.rfc4716")),
		"rfc4716 cr":       bytes.ReplaceAll(readTestdata(t, "ed25519.rfc4716"), []byte("\n"), []byte("\r")),
		"rfc4716 trailing": bytes.ReplaceAll(readTestdata(t, "ed25519.rfc4716"), []byte("\n"), []byte("  \n")),
		"ppk crlf":         crlf(readTestdata(t, "ed25519-v2-none.ppk")),
		"pem crlf":         crlf(readTestdata(t, "ecdsa256.pkix.pem")),
	} {
		k, err := ParsePublicKey(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := fps["ed25519"]
		if strings.HasPrefix(name, "pem") {
			want = fps["ecdsa256"]
		}
		if k.Fingerprint != want {
			t.Errorf("%s: fingerprint %s, want %s", name, k.Fingerprint, want)
		}
	}
}

func TestRFC4716Headers(t *testing.T) {
	body := "AAAAC3NzaC1lZDI1NTE5AAAAID2NQjVOUebRLsYIf+Mx57SYi4VogWus/skXmMaL\n6v2z\n"
	for _, tc := range []struct{ headers, comment string }{
		{"", ""},
		{"Comment: plain words\n", "plain words"},
		{"comment: \"lower-case tag\"\n", "lower-case tag"},
		{"Comment: \"a \\\"quoted\\\" word and a \\\\ backslash\"\n", `a "quoted" word and a \ backslash`},
		{"Comment: \"continued \\\nover two lines\"\n", "continued over two lines"},
		{"Subject: someone\nx-private: whatever\nComment: \"after others\"\nx-tag: ignored\n", "after others"},
		{"Comment: \"C:\\keys\\id\"\n", `C:\keys\id`},
	} {
		in := rfc4716Begin + "\n" + tc.headers + body + rfc4716End + "\n"
		k, err := ParsePublicKey([]byte(in))
		if err != nil {
			t.Errorf("%q: %v", tc.headers, err)
			continue
		}
		if k.Comment != tc.comment {
			t.Errorf("%q: comment %q, want %q", tc.headers, k.Comment, tc.comment)
		}
	}
}

// rsaBlob encodes an ssh-rsa public key blob with arbitrary numbers.
func rsaBlob(e, n *big.Int) []byte {
	mp := func(x *big.Int) []byte {
		b := x.Bytes()
		if len(b) > 0 && b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return appendString(nil, b)
	}
	b := appendString(nil, []byte("ssh-rsa"))
	b = append(b, mp(e)...)
	return append(b, mp(n)...)
}

func openSSHLine(blob []byte) []byte {
	typ := string(blob[4 : 4+int(blob[3])])
	return []byte(typ + " " + strictB64.EncodeToString(blob) + " test")
}

func TestParsePublicKeyRejects(t *testing.T) {
	ed := strings.TrimSpace(string(readTestdata(t, "ed25519.pub")))
	edFields := strings.Fields(ed)
	rfc := string(readTestdata(t, "ed25519.rfc4716"))
	rsa2048, _ := ParsePublicKey(readTestdata(t, "rsa2048.pub"))
	n2048 := rsa2048.PublicKey.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey).N
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM := "-----BEGIN PUBLIC KEY-----\n" + strictB64.EncodeToString(mustPKIX(t, &small.PublicKey)) + "\n-----END PUBLIC KEY-----\n"
	edBlob, _ := strictB64.DecodeString(edFields[1])

	for _, tc := range []struct {
		name string
		in   string
		kind error
		msg  string // substring of the message
	}{
		{"empty", "  \r\n ", ErrMalformed, "input is empty"},
		{"garbage", "hello world", ErrMalformed, "not a recognised public key format"},
		{"binary garbage", "\x00\x01\x02\xff", ErrMalformed, "not a recognised"},
		{"rsa1024 puttygen", string(readTestdata(t, "rsa1024.pub")), ErrWeakKey, "RSA key is 1024 bits; at least 2048 are required"},
		{"rsa1024 ppk", string(readTestdata(t, "rsa1024-v3-none.ppk")), ErrWeakKey, "RSA key is 1024 bits; at least 2048 are required"},
		{"rsa1024 pem", smallPEM, ErrWeakKey, "RSA key is 1024 bits; at least 2048 are required"},
		{"dsa", string(readTestdata(t, "dsa.pub")), ErrUnsupported, "DSA (ssh-dss) keys are not accepted"},
		{"dsa ppk", string(readTestdata(t, "dsa-v3-none.ppk")), ErrUnsupported, "DSA (ssh-dss) keys are not accepted"},
		{"rsa e=1", string(openSSHLine(rsaBlob(big.NewInt(1), n2048))), ErrWeakKey, "RSA public exponent is 1"},
		{"rsa e=65536", string(openSSHLine(rsaBlob(big.NewInt(65536), n2048))), ErrMalformed, "is even"},
		{"rsa e huge", string(openSSHLine(rsaBlob(new(big.Int).Lsh(big.NewInt(1), 40).Add(new(big.Int).Lsh(big.NewInt(1), 40), big.NewInt(1)), n2048))), ErrUnsupported, "at most 24 bits"},
		{"rsa even modulus", string(openSSHLine(rsaBlob(big.NewInt(65537), new(big.Int).Lsh(big.NewInt(1), 2048)))), ErrMalformed, "modulus"},
		{"options", `from="10.0.0.1",no-pty ` + ed, ErrMalformed, "authorized_keys options"},
		{"command option", `command="echo hi" ` + ed, ErrMalformed, "options are not accepted"},
		{"two lines", ed + "\n" + ed, ErrMalformed, "found 2 non-empty lines"},
		{"missing blob", "ssh-ed25519", ErrMalformed, "base64 key data after \"ssh-ed25519\" is missing"},
		{"bad base64", "ssh-ed25519 AAAA!!!!", ErrMalformed, "not valid base64"},
		{"non-canonical base64", nonCanonical(t, "ecdsa256.pub"), ErrMalformed, "not valid base64"},
		{"truncated blob", "ssh-ed25519 " + strictB64.EncodeToString(edBlob[:20]), ErrMalformed, "truncated"},
		{"trailing junk in blob", "ssh-ed25519 " + strictB64.EncodeToString(append(edBlob[:len(edBlob):len(edBlob)], 0, 0)), ErrMalformed, "ssh-ed25519 key data"},
		{"type mismatch", "ssh-rsa " + edFields[1], ErrMalformed, "the line says \"ssh-rsa\" but the encoded key is \"ssh-ed25519\""},
		{"signature name", "rsa-sha2-256 " + edFields[1], ErrMalformed, "the line says"},
		{"ssh1", "2048 65537 12345678901234567890 user@host", ErrUnsupported, "SSH-1"},
		{"unknown type", "ssh-foo AAAAB3NzaC1mb28=", ErrUnsupported, "key type \"ssh-foo\" is not accepted"},
		{"certificate", "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t", ErrUnsupported, "certificate"},
		{"sk key", "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t", ErrUnsupported, "FIDO"},
		{"control char comment", ed + "\x07bell", ErrMalformed, "control character U+0007"},
		{"bidi comment", ed + "\u202e", ErrMalformed, "U+202E"},
		{"invalid utf8 comment", ed + "\xff", ErrMalformed, "not valid UTF-8"},
		{"long comment", ed + strings.Repeat("x", 2000), ErrMalformed, "comment is"},
		{"too large", strings.Repeat(" ", maxInput+1), ErrMalformed, "at most"},
		{"rfc4716 no end", strings.Replace(rfc, rfc4716End, "", 1), ErrMalformed, "END SSH2 PUBLIC KEY ----\" line is missing"},
		{"rfc4716 trailing", rfc + "more", ErrMalformed, "after the END line"},
		{"rfc4716 two keys", rfc + rfc, ErrMalformed, "more than one key"},
		{"rfc4716 nested begin", rfc4716Begin + "\n" + rfc, ErrMalformed, "second BEGIN"},
		{"rfc4716 truncated body", strings.Replace(rfc, "6v2z\n", "", 1), ErrMalformed, "truncated"},
		{"rfc4716 bad base64", strings.Replace(rfc, "6v2z", "6v2", 1), ErrMalformed, "not valid base64"},
		{"rfc4716 empty body", rfc4716Begin + "\nComment: x\n" + rfc4716End, ErrMalformed, "no key data"},
		{"rfc4716 blank line", strings.Replace(rfc, "\n6v2z", "\n\n6v2z", 1), ErrMalformed, "empty line"},
		{"rfc4716 header after data", strings.Replace(rfc, "6v2z\n", "6v2z\nComment: late\n", 1), ErrMalformed, "header line after the key data"},
		{"rfc4716 bad tag", strings.Replace(rfc, "Comment:", "Com ment:", 1), ErrMalformed, "header tag"},
		{"rfc4716 two comments", strings.Replace(rfc, "Comment:", "Comment: a\nComment:", 1), ErrMalformed, "second Comment"},
		{"rfc4716 dangling continuation", strings.Replace(rfc, "Comment: \"ed25519 test key\"", "Comment: x\\", 1) + "", ErrMalformed, ""},
		{"rfc4716 value too long", strings.Replace(rfc, "ed25519 test key", strings.Repeat("y", 1100), 1), ErrMalformed, "at most 1024"},
		{"pem private", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", ErrPrivateKey, "private key"},
		{"pem rsa private", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", ErrPrivateKey, "only the public part"},
		{"ssh.com private", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nx\n", ErrPrivateKey, "ssh.com"},
		{"pem certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", ErrUnsupported, "X.509 certificate"},
		{"pem unknown type", "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", ErrUnsupported, "\"FOO\""},
		{"pem no end", "-----BEGIN PUBLIC KEY-----\nAAAA\n", ErrMalformed, "cannot decode"},
		{"pem trailing", string(readTestdata(t, "rsa2048.pkix.pem")) + "junk", ErrMalformed, "after the END line"},
		{"pem two blocks", string(readTestdata(t, "rsa2048.pkix.pem")) + string(readTestdata(t, "rsa2048.pkix.pem")), ErrMalformed, "more than one PEM block"},
		{"pem headers", "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END PUBLIC KEY-----\n", ErrMalformed, "PEM headers"},
		{"pem garbage der", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", ErrMalformed, "pem: PUBLIC KEY"},
		{"pkcs1 garbage der", "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n", ErrMalformed, "pem: RSA PUBLIC KEY"},
		{"pem pkcs1 with pkix content", strings.ReplaceAll(string(readTestdata(t, "rsa2048.pkix.pem")), "PUBLIC KEY", "RSA PUBLIC KEY"), ErrMalformed, "RSA PUBLIC KEY"},
		{"ppk v1", "PuTTY-User-Key-File-1: ssh-rsa\n", ErrUnsupported, "version 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePublicKey([]byte(tc.in))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			if !strings.HasPrefix(err.Error(), "sshkey: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func TestRFC4716LineLimit(t *testing.T) {
	// ssh-keygen -e writes 70-character lines, within RFC 4716's 72.
	if _, err := ParsePublicKey(readTestdata(t, "rsa2048.ssh-keygen.rfc4716")); err != nil {
		t.Fatal(err)
	}
	k, _ := ParsePublicKey(readTestdata(t, "rsa2048.pub"))
	b64 := strictB64.EncodeToString(k.PublicKey.Marshal())
	var lines []string
	for len(b64) > 76 {
		lines = append(lines, b64[:76])
		b64 = b64[76:]
	}
	lines = append(lines, b64)
	in := rfc4716Begin + "\n" + strings.Join(lines, "\n") + "\n" + rfc4716End + "\n"
	_, err := ParsePublicKey([]byte(in))
	if err == nil || !strings.Contains(err.Error(), "line 2 is 76 characters long; RFC 4716 §3 allows at most 72") {
		t.Errorf("76-character lines: %v", err)
	}
}

func TestParsedKeySigns(t *testing.T) {
	// The Key's ssh.PublicKey is the real thing: it verifies a signature
	// made with the matching private key from the .ppk file.
	p, err := ParsePPK(readTestdata(t, "ecdsa521-v3-none.ppk"), nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKey(readTestdata(t, "ecdsa521.pub"))
	if err != nil {
		t.Fatal(err)
	}
	signAndVerify(t, p, nil, k.PublicKey)
}

func signAndVerify(t *testing.T, p *PPK, passphrase []byte, pub ssh.PublicKey) {
	t.Helper()
	priv, err := p.PrivateKey(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("statement-2026-11.pdf.gpg")
	sig, err := signer.Sign(rand.Reader, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Verify(msg, sig); err != nil {
		t.Errorf("signature from the .ppk private key does not verify: %v", err)
	}
	if err := pub.Verify([]byte("other"), sig); err == nil {
		t.Error("signature verifies for another message")
	}
	var _ crypto.Signer = priv
}

func mustPKIX(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// nonCanonical sets the unused low bits of the last base64 character before
// the padding: decoders that ignore them would accept a second spelling of
// the same key.
func nonCanonical(t *testing.T, name string) string {
	t.Helper()
	line := strings.TrimSpace(string(readTestdata(t, name)))
	f := strings.Fields(line)
	b64 := f[1]
	i := strings.IndexByte(b64, '=') - 1
	if i < 0 {
		t.Fatalf("%s: key data has no padding", name)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	c := alphabet[strings.IndexByte(alphabet, b64[i])+1]
	return f[0] + " " + b64[:i] + string(c) + b64[i+1:]
}
