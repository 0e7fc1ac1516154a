package sftpd

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// LoadOrCreateHostKey returns the host key stored at path, generating an
// Ed25519 key there on first start (OpenSSH private key format, mode 0600).
// Clients pin the host key on first connection, so it must survive
// restarts. Like sshd, it refuses a key file that group or others can read.
func LoadOrCreateHostKey(path string) (ssh.Signer, error) {
	for range 2 {
		s, err := loadHostKey(path)
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			return s, err
		}
		err = createHostKey(path)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		// Created, or another process won the race: load what is there.
	}
	return nil, fmt.Errorf("sftpd: host key %s: could not be created", path)
}

func loadHostKey(path string) (ssh.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sftpd: host key %s: not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("sftpd: host key %s: mode %04o is too open; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	if fi.Size() > 64<<10 {
		return nil, fmt.Errorf("sftpd: host key %s: file too large", path)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key %s: %w", path, err)
	}
	return s, nil
}

// createHostKey writes a new key to a temporary file and links it into
// place, so that the key appears whole or not at all and an existing key is
// never overwritten (link fails with EEXIST).
func createHostKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("sftpd: host key: generate: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "sls sftpd host key")
	if err != nil {
		return fmt.Errorf("sftpd: host key: marshal: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sftpd: host key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".hostkey-*.tmp")
	if err != nil {
		return fmt.Errorf("sftpd: host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("sftpd: host key: %w", err)
	}
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return fmt.Errorf("sftpd: host key: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sftpd: host key: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sftpd: host key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("sftpd: host key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Fingerprint returns the SHA-256 fingerprint of the host key in the form
// OpenSSH prints ("SHA256:..."), for operators to publish to clients.
func Fingerprint(signer ssh.Signer) string {
	return ssh.FingerprintSHA256(signer.PublicKey())
}
