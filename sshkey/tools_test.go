package sshkey

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// These tests run the real puttygen, ssh-keygen and openssl on keys made in
// a temporary directory; each is skipped only when its tool is missing.

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed", name)
	}
}

// tool runs a command in dir with no terminal input, so a tool that wants
// to prompt fails instead of hanging, and returns its standard output.
func tool(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyDir makes a temporary directory holding the passphrase files.
func keyDir(t *testing.T) (dir string, pass []byte) {
	dir = t.TempDir()
	pass = []byte("statements over sftp, port 32")
	if err := os.WriteFile(filepath.Join(dir, "pw"), pass, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, pass
}

// sshKeygenFingerprint is the independent reference: ssh-keygen -l.
func sshKeygenFingerprint(t *testing.T, dir, pubFile string) string {
	f := strings.Fields(string(tool(t, dir, "ssh-keygen", "-l", "-E", "sha256", "-f", pubFile)))
	if len(f) < 2 || !strings.HasPrefix(f[1], "SHA256:") {
		t.Fatalf("ssh-keygen -l output %q", f)
	}
	return f[1]
}

func expectKey(t *testing.T, label string, data []byte, fp, typ string, bits int, format Format) Key {
	t.Helper()
	k, err := ParsePublicKey(data)
	if err != nil {
		t.Errorf("%s: %v", label, err)
		return k
	}
	if k.Fingerprint != fp || k.Type != typ || k.Bits != bits || k.Format != format {
		t.Errorf("%s: got %s %s %d %s, want %s %s %d %s", label, k.Fingerprint, k.Type, k.Bits, k.Format, fp, typ, bits, format)
	}
	return k
}

func TestPuttygenKeys(t *testing.T) {
	needTool(t, "puttygen")
	needTool(t, "ssh-keygen")
	_, opensslErr := exec.LookPath("openssl")
	for _, tc := range []struct {
		name string
		gen  []string
		typ  string
		bits int
		kdf  string // --ppk-param for the encrypted version 3 file
	}{
		{"rsa2048", []string{"-t", "rsa", "-b", "2048"}, "ssh-rsa", 2048, "kdf=argon2id,memory=256,passes=2"},
		// puttygen's default memory (8 MiB) with Argon2d, which goes through
		// this package's own Argon2 implementation; a fixed pass count
		// rather than puttygen's timed default keeps the test's cost steady.
		{"ed25519", []string{"-t", "ed25519"}, "ssh-ed25519", 256, "kdf=argon2d,memory=8192,passes=3"},
		{"ecdsa256", []string{"-t", "ecdsa", "-b", "256"}, "ecdsa-sha2-nistp256", 256, "kdf=argon2i,memory=128,passes=3"},
		{"ecdsa384", []string{"-t", "ecdsa", "-b", "384"}, "ecdsa-sha2-nistp384", 384, "kdf=argon2id,memory=64,parallelism=2,passes=1"},
		{"ecdsa521", []string{"-t", "ecdsa", "-b", "521"}, "ecdsa-sha2-nistp521", 521, "kdf=argon2d,memory=512,passes=1,parallelism=3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, pass := keyDir(t)
			gen := append([]string{"-q"}, tc.gen...)
			gen = append(gen, "-C", tc.name+" client key", "-o", "v3.ppk", "--new-passphrase", "pw", "--ppk-param", tc.kdf)
			tool(t, dir, "puttygen", gen...)
			conv := func(args ...string) {
				tool(t, dir, "puttygen", append([]string{"-q", "v3.ppk", "--old-passphrase", "pw"}, args...)...)
			}
			conv("-O", "private", "--reencrypt", "--new-passphrase", "pw", "--ppk-param", "version=2", "-o", "v2.ppk")
			conv("-O", "private", "--reencrypt", "--new-passphrase", "empty", "-o", "v3-none.ppk")
			conv("-O", "private", "--reencrypt", "--new-passphrase", "empty", "--ppk-param", "version=2", "-o", "v2-none.ppk")
			conv("-L", "-o", "public.openssh") // the article's step 5
			conv("-p", "-o", "public.rfc4716") // -O public
			conv("-O", "private-openssh-new", "--new-passphrase", "empty", "-o", "openssh")
			if err := os.Chmod(filepath.Join(dir, "openssh"), 0o600); err != nil {
				t.Fatal(err)
			}
			fp := sshKeygenFingerprint(t, dir, "public.openssh")
			if got := strings.Fields(string(tool(t, dir, "puttygen", "-l", "-E", "sha256", "v3-none.ppk"))); len(got) < 3 || got[2] != fp {
				t.Errorf("puttygen -l says %q, ssh-keygen -l says %s", got, fp)
			}

			forms := map[string]Format{
				"v3.ppk": FormatPPK, "v2.ppk": FormatPPK, "v3-none.ppk": FormatPPK, "v2-none.ppk": FormatPPK,
				"public.openssh": FormatOpenSSH, "public.rfc4716": FormatRFC4716,
			}
			write := func(name string, data []byte) {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write("ssh-keygen-y.pub", tool(t, dir, "ssh-keygen", "-y", "-f", "openssh"))
			forms["ssh-keygen-y.pub"] = FormatOpenSSH
			write("ssh-keygen-e.rfc4716", tool(t, dir, "ssh-keygen", "-e", "-f", "openssh"))
			forms["ssh-keygen-e.rfc4716"] = FormatRFC4716
			if tc.typ != "ssh-ed25519" { // ssh-keygen has no PEM/PKCS8 export for Ed25519
				write("pkcs8.pem", tool(t, dir, "ssh-keygen", "-e", "-m", "PKCS8", "-f", "openssh"))
				forms["pkcs8.pem"] = FormatPKIX
				write("pem.pem", tool(t, dir, "ssh-keygen", "-e", "-m", "PEM", "-f", "openssh"))
				if tc.typ == "ssh-rsa" {
					forms["pem.pem"] = FormatPKCS1
				} else {
					forms["pem.pem"] = FormatPKIX // ssh-keygen writes SubjectPublicKeyInfo for ECDSA
				}
				if opensslErr == nil {
					// openssl reads the traditional PEM private key form.
					write("legacy", readFile(t, dir, "openssh"))
					tool(t, dir, "ssh-keygen", "-p", "-q", "-N", "", "-m", "PEM", "-f", "legacy")
					write("openssl-pkix.pem", tool(t, dir, "openssl", "pkey", "-in", "legacy", "-pubout"))
					forms["openssl-pkix.pem"] = FormatPKIX
					if tc.typ == "ssh-rsa" {
						write("openssl-pkcs1.pem", tool(t, dir, "openssl", "rsa", "-in", "legacy", "-RSAPublicKey_out"))
						forms["openssl-pkcs1.pem"] = FormatPKCS1
					}
				}
			}
			for name, format := range forms {
				k := expectKey(t, name, readFile(t, dir, name), fp, tc.typ, tc.bits, format)
				if strings.HasSuffix(name, ".ppk") || strings.HasPrefix(name, "public.") {
					if k.Comment != tc.name+" client key" {
						t.Errorf("%s: comment %q", name, k.Comment)
					}
				}
			}

			// The private key from every .ppk form equals puttygen's own
			// OpenSSH export of it, and signs for the exported public key.
			want, err := ssh.ParseRawPrivateKey(readFile(t, dir, "openssh"))
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := want.(*ed25519.PrivateKey); ok {
				want = *p // x/crypto returns Ed25519 keys by pointer
			}
			pub, err := ParsePublicKey(readFile(t, dir, "public.openssh"))
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"v3.ppk", "v2.ppk", "v3-none.ppk", "v2-none.ppk"} {
				data := readFile(t, dir, name)
				p, err := ParsePPK(data, nil)
				if err != nil {
					t.Fatalf("%s without passphrase: %v", name, err)
				}
				if p.Encrypted() {
					if _, err := ParsePPK(data, []byte("not the passphrase")); err != ErrWrongPassphrase {
						t.Errorf("%s wrong passphrase: %v", name, err)
					}
				}
				priv, err := p.PrivateKey(pass)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !priv.(interface{ Equal(crypto.PrivateKey) bool }).Equal(want) {
					t.Errorf("%s: private key differs from puttygen's OpenSSH export", name)
				}
				signAndVerify(t, p, pass, pub.PublicKey)
			}
		})
	}
}

// Keys made by ssh-keygen, imported by puttygen into .ppk files.
func TestSSHKeygenKeys(t *testing.T) {
	needTool(t, "ssh-keygen")
	needTool(t, "puttygen")
	for _, tc := range []struct {
		name string
		gen  []string
		typ  string
		bits int
	}{
		{"rsa2048", []string{"-t", "rsa", "-b", "2048"}, "ssh-rsa", 2048},
		{"ed25519", []string{"-t", "ed25519"}, "ssh-ed25519", 256},
		{"ecdsa384", []string{"-t", "ecdsa", "-b", "384"}, "ecdsa-sha2-nistp384", 384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, pass := keyDir(t)
			tool(t, dir, "ssh-keygen", append(tc.gen, "-q", "-N", "", "-C", "client@example.com", "-f", "id")...)
			fp := sshKeygenFingerprint(t, dir, "id.pub")
			k := expectKey(t, "id.pub", readFile(t, dir, "id.pub"), fp, tc.typ, tc.bits, FormatOpenSSH)
			if k.Comment != "client@example.com" {
				t.Errorf("comment %q", k.Comment)
			}
			expectKey(t, "-e", tool(t, dir, "ssh-keygen", "-e", "-f", "id.pub"), fp, tc.typ, tc.bits, FormatRFC4716)
			if tc.typ != "ssh-ed25519" {
				expectKey(t, "-e -m PKCS8", tool(t, dir, "ssh-keygen", "-e", "-m", "PKCS8", "-f", "id.pub"), fp, tc.typ, tc.bits, FormatPKIX)
			}
			if tc.typ == "ssh-rsa" {
				expectKey(t, "-e -m PEM", tool(t, dir, "ssh-keygen", "-e", "-m", "PEM", "-f", "id.pub"), fp, tc.typ, tc.bits, FormatPKCS1)
			}
			tool(t, dir, "puttygen", "-q", "id", "--old-passphrase", "empty", "-O", "private", "--new-passphrase", "pw",
				"--ppk-param", "memory=64,passes=1", "-o", "id.ppk")
			p, err := ParsePPK(readFile(t, dir, "id.ppk"), pass)
			if err != nil {
				t.Fatal(err)
			}
			if got := ssh.FingerprintSHA256(p.PublicKey()); got != fp {
				t.Errorf("ppk fingerprint %s, want %s", got, fp)
			}
			signAndVerify(t, p, nil, k.PublicKey)
		})
	}
}

// Keys made by openssl: PKIX and PKCS#1 files, checked against ssh-keygen's
// conversion to OpenSSH.
func TestOpenSSLKeys(t *testing.T) {
	needTool(t, "openssl")
	needTool(t, "ssh-keygen")
	for _, tc := range []struct {
		name string
		gen  []string
		typ  string
		bits int
	}{
		{"rsa2048", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, "ssh-rsa", 2048},
		{"p256", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, "ecdsa-sha2-nistp256", 256},
		{"p521", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"}, "ecdsa-sha2-nistp521", 521},
		{"ed25519", []string{"-algorithm", "ED25519"}, "ssh-ed25519", 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := keyDir(t)
			tool(t, dir, "openssl", append([]string{"genpkey", "-out", "key.pem"}, tc.gen...)...)
			tool(t, dir, "openssl", "pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem")
			var line []byte
			if tc.typ == "ssh-ed25519" {
				// ssh-keygen -i cannot read Ed25519 PKIX; the raw key is the
				// last 32 bytes of openssl's DER, assembled here into an
				// OpenSSH line (RFC 8709 §4) for ssh-keygen to fingerprint.
				der := tool(t, dir, "openssl", "pkey", "-pubin", "-in", "pub.pem", "-outform", "DER")
				blob := appendString(appendString(nil, []byte("ssh-ed25519")), der[len(der)-32:])
				line = []byte("ssh-ed25519 " + strictB64.EncodeToString(blob) + "\n")
			} else {
				line = tool(t, dir, "ssh-keygen", "-i", "-m", "PKCS8", "-f", "pub.pem")
			}
			if err := os.WriteFile(filepath.Join(dir, "pub.openssh"), line, 0o600); err != nil {
				t.Fatal(err)
			}
			fp := sshKeygenFingerprint(t, dir, "pub.openssh")
			expectKey(t, "pkix", readFile(t, dir, "pub.pem"), fp, tc.typ, tc.bits, FormatPKIX)
			expectKey(t, "ssh-keygen -i", line, fp, tc.typ, tc.bits, FormatOpenSSH)
			if tc.typ == "ssh-rsa" {
				expectKey(t, "pkcs1", tool(t, dir, "openssl", "rsa", "-in", "key.pem", "-RSAPublicKey_out"), fp, tc.typ, tc.bits, FormatPKCS1)
			}
		})
	}
}

// Each refusal, on files the real tools make.
func TestToolRejections(t *testing.T) {
	needTool(t, "puttygen")
	needTool(t, "ssh-keygen")
	dir, _ := keyDir(t)
	const weak = "sshkey: RSA key is 1024 bits; at least 2048 are required"
	check := func(label string, data []byte, kind error, msg string) {
		t.Helper()
		_, err := ParsePublicKey(data)
		if !errors.Is(err, kind) || !strings.Contains(fmtErr(err), msg) {
			t.Errorf("%s: error %v, want %v mentioning %q", label, err, kind, msg)
		}
	}

	tool(t, dir, "puttygen", "-q", "-t", "rsa", "-b", "1024", "-o", "rsa1024.ppk", "--new-passphrase", "pw")
	check("puttygen rsa1024 ppk", readFile(t, dir, "rsa1024.ppk"), ErrWeakKey, weak)
	check("puttygen rsa1024 -L", tool(t, dir, "puttygen", "-L", "rsa1024.ppk", "--old-passphrase", "pw"), ErrWeakKey, weak)
	check("puttygen rsa1024 -p", tool(t, dir, "puttygen", "-p", "rsa1024.ppk", "--old-passphrase", "pw"), ErrWeakKey, weak)
	tool(t, dir, "puttygen", "-q", "rsa1024.ppk", "--old-passphrase", "pw", "-O", "private-sshcom", "--new-passphrase", "empty", "-o", "sshcom")
	check("puttygen ssh.com private", readFile(t, dir, "sshcom"), ErrPrivateKey, "ssh.com (SSH2) private key")

	tool(t, dir, "ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", "rsa1024")
	check("ssh-keygen rsa1024", readFile(t, dir, "rsa1024.pub"), ErrWeakKey, weak)
	check("ssh-keygen rsa1024 -e", tool(t, dir, "ssh-keygen", "-e", "-f", "rsa1024.pub"), ErrWeakKey, weak)
	check("ssh-keygen rsa1024 -e -m PEM", tool(t, dir, "ssh-keygen", "-e", "-m", "PEM", "-f", "rsa1024.pub"), ErrWeakKey, weak)
	check("ssh-keygen private key", readFile(t, dir, "rsa1024"), ErrPrivateKey, "OPENSSH PRIVATE KEY")

	tool(t, dir, "puttygen", "-q", "-t", "dsa", "-b", "1024", "-o", "dsa.ppk", "--new-passphrase", "empty")
	check("puttygen dsa ppk", readFile(t, dir, "dsa.ppk"), ErrUnsupported, "DSA (ssh-dss) keys are not accepted")
	if _, err := ParsePPK(readFile(t, dir, "dsa.ppk"), nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ParsePPK dsa: %v", err)
	}
	check("puttygen dsa -L", tool(t, dir, "puttygen", "-L", "dsa.ppk"), ErrUnsupported, "DSA")
	check("puttygen dsa -p", tool(t, dir, "puttygen", "-p", "dsa.ppk"), ErrUnsupported, "DSA")
	if err := exec.Command("ssh-keygen", "-q", "-t", "dsa", "-N", "", "-f", filepath.Join(dir, "dsa")).Run(); err == nil {
		check("ssh-keygen dsa", readFile(t, dir, "dsa.pub"), ErrUnsupported, "DSA")
	}

	// Certificates: ssh-keygen signs a user key; puttygen embeds the
	// certificate in a .ppk file.
	tool(t, dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "ca")
	tool(t, dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "user")
	tool(t, dir, "ssh-keygen", "-q", "-s", "ca", "-I", "client", "-n", "sftp", "user.pub")
	check("ssh-keygen certificate", readFile(t, dir, "user-cert.pub"), ErrUnsupported, "certificate")
	tool(t, dir, "puttygen", "-q", "user", "--old-passphrase", "empty", "-O", "private", "--new-passphrase", "empty", "-o", "user.ppk")
	tool(t, dir, "puttygen", "-q", "user.ppk", "--certificate", "user-cert.pub", "-O", "private", "--new-passphrase", "empty", "-o", "cert.ppk")
	check("puttygen certificate ppk", readFile(t, dir, "cert.ppk"), ErrUnsupported, "certificate")

	if _, err := exec.LookPath("openssl"); err == nil {
		for _, gen := range []struct {
			name string
			args []string
			kind error
			msg  string
		}{
			{"rsa1024", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"}, ErrWeakKey, weak},
			{"x25519", []string{"-algorithm", "X25519"}, ErrUnsupported, "key-agreement"},
			{"ed448", []string{"-algorithm", "ED448"}, ErrUnsupported, "not accept"},
			{"p224", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"}, ErrUnsupported, "P-224"},
			{"secp256k1", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"}, ErrUnsupported, "elliptic curve"},
		} {
			key := gen.name + ".pem"
			tool(t, dir, "openssl", append([]string{"genpkey", "-out", key}, gen.args...)...)
			check("openssl "+gen.name, tool(t, dir, "openssl", "pkey", "-in", key, "-pubout"), gen.kind, gen.msg)
			check("openssl private "+gen.name, readFile(t, dir, key), ErrPrivateKey, "PRIVATE KEY")
		}
		tool(t, dir, "openssl", "dsaparam", "-out", "dsaparam.pem", "1024")
		tool(t, dir, "openssl", "gendsa", "-out", "dsakey.pem", "dsaparam.pem")
		check("openssl dsa", tool(t, dir, "openssl", "dsa", "-in", "dsakey.pem", "-pubout"), ErrUnsupported, "DSA")
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
