package sftpd

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestDefaultClientCipher checks what a default OpenSSH client (no -c)
// negotiates: AES-CTR with an encrypt-then-MAC HMAC under the default
// list, ChaCha20-Poly1305 once an operator puts it back.
func TestDefaultClientCipher(t *testing.T) {
	needTools(t, "sftp")
	good, _ := testKeys(t)
	for _, tc := range []struct {
		ciphers []string
		want    string
	}{
		{nil, "server->client aes128-ctr MAC: hmac-sha2-256-etm@openssh.com"},
		{[]string{ssh.CipherChaCha20Poly1305, ssh.CipherAES128GCM, ssh.CipherAES128CTR}, "server->client chacha20-poly1305@openssh.com"},
	} {
		ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), func(c *Config) { c.Ciphers = tc.ciphers })
		got := benchTarget{name: "sls sftpd", port: ts.port, user: "alice"}.negotiated(t, good.OpenSSH)
		if !strings.Contains(got, tc.want) {
			t.Errorf("ciphers %v: a default client negotiated %q, want %q", tc.ciphers, got, tc.want)
		}
	}
}

func TestCiphersChecked(t *testing.T) {
	for _, bad := range [][]string{{"aes128-cbc"}, {ssh.CipherAES128CTR, "arcfour"}, {"none"}} {
		_, err := New(Config{HostKey: testHostKey(), Root: t.TempDir(), Directory: newMemDirectory(), Ciphers: bad})
		if err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("ciphers %v: New returned %v, want a refusal", bad, err)
		}
	}
	if err := CheckCiphers(nil); err == nil {
		t.Error("CheckCiphers accepted an empty list")
	}
	if err := CheckCiphers(DefaultCiphers); err != nil {
		t.Errorf("DefaultCiphers: %v", err)
	}
	if err := CheckCiphers([]string{ssh.CipherChaCha20Poly1305}); err != nil {
		t.Errorf("chacha20-poly1305: %v", err)
	}
}
