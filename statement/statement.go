// Package statement puts statements into the clients' SFTP folders
// (SPEC §7): it writes each file atomically into Root/<username>/, optionally
// encrypted to the client's OpenPGP public key so that `gpg --decrypt` opens
// it, and it drains the back office's spool directory into those folders.
//
// Encrypted statements are written in binary OpenPGP (RFC 4880 / RFC 9580
// packets, no ASCII armor) with a ".gpg" suffix. Binary is a third smaller
// than armor (base64 costs 4/3 plus line breaks), streams without any
// re-encoding, and ".gpg" is the name GnuPG itself gives binary output and
// that desktop tools (Kleopatra, GPG Suite) open on double-click; `gpg
// --decrypt` reads binary and armored input alike, so nothing is lost.
//
// The message is encrypted with AES-256 (or what the recipient's key
// prefers among AES-256/AES-128) in the integrity-protected SEIPD v1 packet,
// which every GnuPG in use decrypts; it is not compressed, since statements
// are mostly PDF and compression would only cost time.
package statement

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// EncryptedSuffix is appended to the name of an encrypted statement.
const EncryptedSuffix = ".gpg"

// MaxNameLen bounds a statement's name in bytes. NAME_MAX is 255 on the
// file systems we run on (POSIX <limits.h>); the margin leaves room for
// EncryptedSuffix and for the temporary name ".<name>.<16 hex>.part".
const MaxNameLen = 200

// ErrInvalidName is wrapped by the errors for names that are refused.
var ErrInvalidName = errors.New("statement: invalid name")

// ErrNoRoom is wrapped by the error of a delivery whose file would be
// larger than the room it was given (DeliverWithin).
var ErrNoRoom = errors.New("statement: no room for the statement")

// ErrInvalidUsername is wrapped by the errors for usernames that cannot be
// a folder name.
var ErrInvalidUsername = errors.New("statement: invalid username")

// ValidateName checks that name is a plain file name a client's tools can
// save anywhere: not empty, at most MaxNameLen bytes of UTF-8, no path
// separator, no control character, none of the characters Windows forbids
// in names (<>:"|?*, since many clients use Windows), not a dot-file (those
// are hidden and the spool reserves them), no ".part" suffix (the spool's
// and our own marker of incomplete files), and no leading or trailing space.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidName, MaxNameLen)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidName)
	}
	if name[0] == '.' {
		return fmt.Errorf("%w: starts with '.'", ErrInvalidName)
	}
	if strings.HasSuffix(name, ".part") {
		return fmt.Errorf("%w: ends with .part", ErrInvalidName)
	}
	if strings.TrimSpace(name) != name {
		return fmt.Errorf("%w: leading or trailing space", ErrInvalidName)
	}
	for _, c := range name {
		switch {
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0):
			return fmt.Errorf("%w: control character %U", ErrInvalidName, c)
		case strings.ContainsRune(`/\<>:"|?*`, c):
			return fmt.Errorf("%w: forbidden character %q", ErrInvalidName, c)
		}
	}
	return nil
}

// ValidateUsername checks that a username can be used as a folder name:
// 1 to 64 characters from [A-Za-z0-9._-], not starting with "." or "-"
// (the same rule as package sftpd).
func ValidateUsername(u string) error {
	if len(u) == 0 || len(u) > 64 {
		return fmt.Errorf("%w: must have 1 to 64 characters", ErrInvalidUsername)
	}
	if u[0] == '.' || u[0] == '-' {
		return fmt.Errorf("%w: starts with %q", ErrInvalidUsername, u[0])
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: forbidden character %q", ErrInvalidUsername, c)
		}
	}
	return nil
}

// Deliver writes the content of r as Root/<username>/<name>, or
// <name>.gpg encrypted to recipient when recipient is not nil, and returns
// the path written. The client folder is created (mode 0700) if needed.
//
// The file is streamed to a temporary dot-file in the same folder, synced,
// given modification time now (which the retention purge counts from) and
// renamed into place, so a client never sees half a statement and a crash
// leaves only a temporary file behind. A statement with the same name is
// replaced.
func Deliver(root, username, name string, r io.Reader, recipient *openpgp.Entity, now time.Time) (path string, err error) {
	return DeliverWithin(root, username, name, r, recipient, now, -1)
}

// DeliverWithin is Deliver with a bound: when the file written (after
// encryption) would pass room bytes, it stops, removes what it wrote and
// returns an error wrapping ErrNoRoom, leaving the folder as it was. A
// negative room sets no bound.
func DeliverWithin(root, username, name string, r io.Reader, recipient *openpgp.Entity, now time.Time, room int64) (path string, err error) {
	if err := ValidateUsername(username); err != nil {
		return "", err
	}
	if err := ValidateName(name); err != nil {
		return "", err
	}
	final := name
	if recipient != nil {
		if err := checkRecipient(recipient, now); err != nil {
			return "", err
		}
		final += EncryptedSuffix
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	base, err := os.OpenRoot(root)
	if err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	defer base.Close()
	if err := base.Mkdir(username, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	dir, err := base.OpenRoot(username)
	if err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	defer dir.Close()

	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	tmp := "." + final + "." + hex.EncodeToString(rnd[:]) + ".part"
	f, err := dir.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			dir.Remove(tmp)
		}
	}()

	var w io.Writer = f
	if room >= 0 {
		w = &roomWriter{w: f, left: room}
	}
	if recipient != nil {
		err = encryptTo(w, r, recipient, name, now)
	} else {
		_, err = io.Copy(w, r)
	}
	if err != nil {
		return "", fmt.Errorf("statement: deliver %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return "", fmt.Errorf("statement: deliver: sync: %w", err)
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	if err = dir.Chtimes(tmp, now, now); err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	if err = dir.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("statement: deliver: %w", err)
	}
	// The rename is durable only once the folder itself is synced.
	if d, derr := dir.Open("."); derr == nil {
		d.Sync()
		d.Close()
	}
	return filepath.Join(root, username, final), nil
}

// roomWriter refuses the write that would pass left bytes, writing
// nothing of it: what is on disk is then discarded anyway.
type roomWriter struct {
	w    io.Writer
	left int64
}

func (rw *roomWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > rw.left {
		return 0, ErrNoRoom
	}
	n, err := rw.w.Write(p)
	rw.left -= int64(n)
	return n, err
}

func encryptTo(w io.Writer, r io.Reader, to *openpgp.Entity, name string, now time.Time) error {
	cfg := &packet.Config{
		DefaultCipher: packet.CipherAES256,
		Time:          func() time.Time { return now },
	}
	hints := &openpgp.FileHints{IsBinary: true, FileName: name, ModTime: now}
	pt, err := openpgp.Encrypt(w, []*openpgp.Entity{to}, nil, hints, cfg)
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if _, err := io.Copy(pt, r); err != nil {
		pt.Close()
		return err
	}
	if err := pt.Close(); err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	return nil
}
