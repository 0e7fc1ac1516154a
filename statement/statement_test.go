package statement

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var testNow = time.Date(2026, 3, 1, 18, 30, 0, 0, time.UTC)

func TestValidateName(t *testing.T) {
	good := []string{
		"U1234567_Activity_20260301.pdf", "statement.csv", "a", "Relevé 2026-03.pdf",
		"with space.pdf", "x.gpg", strings.Repeat("a", MaxNameLen),
	}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	bad := []string{
		"", ".", "..", ".hidden", "../x", "a/b", `a\b`, "/abs", "x.part", "a\x00b", "a\nb",
		"tab\there", " lead", "trail ", "con:1", "a*b", "q?", `"q"`, "<x>", "p|q",
		strings.Repeat("a", MaxNameLen+1), "bad\xffutf8", "c1\u0085ctl",
	}
	for _, n := range bad {
		err := ValidateName(n)
		if err == nil || !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", n, err)
		}
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"a.pdf", "../x", ".x", "a/b", "x.part", "\x00", "é.pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateName(name) != nil {
			return
		}
		// Anything accepted is one local path component.
		if !filepath.IsLocal(name) || filepath.Base(name) != name || strings.HasPrefix(name, ".") {
			t.Fatalf("accepted %q", name)
		}
	})
}

func TestValidateUsername(t *testing.T) {
	for _, u := range []string{"alice", "U1234567", "a.b-c_d"} {
		if err := ValidateUsername(u); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
	for _, u := range []string{"", ".", "..", ".x", "-x", "a/b", "a b", "é", strings.Repeat("a", 65)} {
		if err := ValidateUsername(u); !errors.Is(err, ErrInvalidUsername) {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestDeliverPlain(t *testing.T) {
	root := filepath.Join(t.TempDir(), "sftp")
	p, err := Deliver(root, "alice", "stmt.pdf", strings.NewReader("content"), nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(root, "alice", "stmt.pdf") {
		t.Errorf("path %s", p)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "content" {
		t.Errorf("content %q", b)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(testNow) {
		t.Errorf("file mode %v mtime %v", fi.Mode(), fi.ModTime())
	}
	di, _ := os.Stat(filepath.Join(root, "alice"))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", di.Mode())
	}
	// Delivering again under the same name replaces the file.
	if _, err := Deliver(root, "alice", "stmt.pdf", strings.NewReader("v2"), nil, testNow); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "v2" {
		t.Errorf("after redelivery %q", b)
	}
	assertNoTemp(t, filepath.Join(root, "alice"))
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestDeliverRefusesBadInput(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct{ user, name string }{
		{"alice", "../escape.pdf"}, {"alice", ".hidden"}, {"alice", "a/b"}, {"../x", "a.pdf"}, {"", "a.pdf"},
	} {
		if _, err := Deliver(root, tc.user, tc.name, strings.NewReader("x"), nil, testNow); err == nil {
			t.Errorf("Deliver(%q, %q) succeeded", tc.user, tc.name)
		}
	}
	es, _ := os.ReadDir(root)
	if len(es) != 0 {
		t.Errorf("root has %d entries", len(es))
	}
	// A client folder that is a link out of the root is refused.
	outside := t.TempDir()
	must(t, os.Symlink(outside, filepath.Join(root, "mallory")))
	if _, err := Deliver(root, "mallory", "a.pdf", strings.NewReader("x"), nil, testNow); err == nil {
		t.Error("delivered through a linked folder")
	}
	if es, _ := os.ReadDir(outside); len(es) != 0 {
		t.Error("file written outside the root")
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("back office went away")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func TestDeliverFailureLeavesNothing(t *testing.T) {
	root := t.TempDir()
	ent := newEntity(t)
	for _, rcpt := range []*openpgp.Entity{nil, ent} {
		_, err := Deliver(root, "alice", "stmt.pdf", &failingReader{n: 100000}, rcpt, testNow)
		if err == nil {
			t.Fatal("Deliver succeeded with a failing reader")
		}
	}
	es, _ := os.ReadDir(filepath.Join(root, "alice"))
	if len(es) != 0 {
		t.Errorf("left %v", es)
	}
}

func TestDeliverWithinRoom(t *testing.T) {
	root := t.TempDir()
	ent := newEntity(t)
	if _, err := DeliverWithin(root, "alice", "keep.pdf", strings.NewReader("old"), nil, testNow, -1); err != nil {
		t.Fatal(err)
	}
	// Exactly the room fits.
	if _, err := DeliverWithin(root, "alice", "fits.pdf", &patternReader{n: 5000}, nil, testNow, 5000); err != nil {
		t.Fatalf("a statement of exactly the room: %v", err)
	}
	for _, rcpt := range []*openpgp.Entity{nil, ent} {
		// Encryption adds some bytes: what counts is the file written.
		_, err := DeliverWithin(root, "alice", "keep.pdf", &patternReader{n: 100000}, rcpt, testNow, 99999)
		if !errors.Is(err, ErrNoRoom) {
			t.Fatalf("a statement larger than the room: %v, want ErrNoRoom", err)
		}
	}
	// Nothing changed: the statement of the same name is still the old one.
	if b, err := os.ReadFile(filepath.Join(root, "alice", "keep.pdf")); err != nil || string(b) != "old" {
		t.Fatalf("replaced statement changed: %q, %v", b, err)
	}
	assertNoTemp(t, filepath.Join(root, "alice"))
}

// patternReader streams n pseudo-random bytes without holding them.
type patternReader struct {
	n, off int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		x := uint64(r.off + int64(i))
		x ^= x >> 7
		x *= 0x9e3779b97f4a7c15
		p[i] = byte(x >> 56)
	}
	r.off += int64(len(p))
	return len(p), nil
}

func TestDeliverEncryptedStreams(t *testing.T) {
	root := t.TempDir()
	ent := newEntity(t)
	const size = 16 << 20
	p, err := Deliver(root, "alice", "big.pdf", &patternReader{n: size}, ent, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "big.pdf.gpg" {
		t.Errorf("name %s", p)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	md, err := openpgp.ReadMessage(f, openpgp.EntityList{ent}, nil, &packet.Config{Time: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if md.LiteralData.FileName != "big.pdf" {
		t.Errorf("embedded name %q", md.LiteralData.FileName)
	}
	h1, h2 := sha256.New(), sha256.New()
	if _, err := io.Copy(h1, md.UnverifiedBody); err != nil {
		t.Fatal(err)
	}
	io.Copy(h2, &patternReader{n: size})
	if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
		t.Error("decrypted content differs")
	}
	assertNoTemp(t, filepath.Join(root, "alice"))
}

func TestDeliverRefusesExpiredRecipient(t *testing.T) {
	cfg := &packet.Config{Time: func() time.Time { return testNow }, KeyLifetimeSecs: 86400, Algorithm: packet.PubKeyAlgoEdDSA}
	ent, err := openpgp.NewEntity("Short Lived", "", "short@example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	_, err = Deliver(root, "alice", "a.pdf", strings.NewReader("x"), ent, testNow.Add(48*time.Hour))
	if !errors.Is(err, ErrKeyExpired) {
		t.Errorf("Deliver to an expired key: %v", err)
	}
	if _, err := Deliver(root, "alice", "a.pdf", strings.NewReader("x"), ent, testNow.Add(time.Hour)); err != nil {
		t.Errorf("Deliver before expiry: %v", err)
	}
}

// TestDeliverDecryptsWithGPG checks the claim that matters to the client:
// `gpg --decrypt` opens what we write.
func TestDeliverDecryptsWithGPG(t *testing.T) {
	g := gpgHome(t)
	key := g.genKey(t, "Dee Crypt <dee@example.com>", "future-default", "default", "never")
	ent, err := ParseRecipient(key)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	plain := bytes.Repeat([]byte("Date,Symbol,Qty,Price\n2026-03-01,XYZ,100,12.34\n"), 20000)
	p, err := Deliver(root, "dee", "activity.csv", bytes.NewReader(plain), ent, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.csv")
	g.run(t, "--batch", "--yes", "--output", out, "--decrypt", p)
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, plain) {
		t.Errorf("gpg decrypted %d bytes, want %d", len(got), len(plain))
	}
}

func newEntity(t testing.TB) *openpgp.Entity {
	t.Helper()
	ent, err := openpgp.NewEntity("Test Client", "", "client@example.com", &packet.Config{
		Time:      func() time.Time { return testNow.Add(-time.Hour) },
		Algorithm: packet.PubKeyAlgoEdDSA, // RSA generation would slow the suite down
	})
	if err != nil {
		t.Fatal(err)
	}
	return ent
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// gpgEnv is a throw-away GnuPG home.
type gpgEnv struct{ home string }

func gpgHome(t *testing.T) *gpgEnv {
	t.Helper()
	for _, tool := range []string{"gpg", "gpgconf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	home, err := os.MkdirTemp("", "gpg") // short: the agent socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return &gpgEnv{home}
}

func (g *gpgEnv) run(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--homedir", g.home}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// genKey makes a key with --quick-gen-key and returns its armored export.
func (g *gpgEnv) genKey(t *testing.T, uid string, args ...string) []byte {
	t.Helper()
	g.run(t, append([]string{"--batch", "--passphrase", "", "--quick-gen-key", uid}, args...)...)
	return g.run(t, "--batch", "--armor", "--export", uid)
}

func (g *gpgEnv) fingerprint(t *testing.T, uid string) string {
	t.Helper()
	out := g.run(t, "--batch", "--with-colons", "--list-keys", uid)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "fpr:") {
			return strings.Split(line, ":")[9]
		}
	}
	t.Fatalf("no fingerprint for %s", uid)
	return ""
}
