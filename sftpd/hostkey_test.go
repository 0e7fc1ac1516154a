package sftpd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateHostKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "ssh_host_ed25519_key")
	s1, err := LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if s1.PublicKey().Type() != "ssh-ed25519" {
		t.Errorf("type %s", s1.PublicKey().Type())
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Errorf("not an OpenSSH private key:\n%s", data)
	}
	s2, err := LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(s1) != Fingerprint(s2) {
		t.Error("second start generated a new key")
	}
	if !strings.HasPrefix(Fingerprint(s1), "SHA256:") {
		t.Errorf("fingerprint %q", Fingerprint(s1))
	}
	// OpenSSH reads the file and prints the same fingerprint.
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		out, err := exec.Command("ssh-keygen", "-l", "-f", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), Fingerprint(s1)) {
			t.Errorf("ssh-keygen -l: %v\n%s\nwant %s", err, out, Fingerprint(s1))
		}
	}
	// No temporary files left behind.
	es, _ := os.ReadDir(filepath.Dir(path))
	if len(es) != 1 {
		t.Errorf("key folder has %d entries", len(es))
	}
}

func TestLoadOrCreateHostKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostkey")
	var wg sync.WaitGroup
	fps := make([]string, 8)
	for i := range fps {
		wg.Go(func() {
			s, err := LoadOrCreateHostKey(path)
			if err != nil {
				t.Error(err)
				return
			}
			fps[i] = Fingerprint(s)
		})
	}
	wg.Wait()
	for _, fp := range fps[1:] {
		if fp != fps[0] {
			t.Fatalf("concurrent starts got different keys: %v", fps)
		}
	}
}

func TestLoadHostKeyRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hostkey")
	if _, err := LoadOrCreateHostKey(path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "too open") {
		t.Errorf("world-readable key: %v", err)
	}
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateHostKey(garbage); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := LoadOrCreateHostKey(dir); err == nil {
		t.Error("a directory accepted")
	}
}
