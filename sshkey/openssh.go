package sshkey

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// strictB64 refuses non-canonical encodings (stray bits in the last group),
// so that one key has exactly one textual form.
var strictB64 = base64.StdEncoding.Strict()

// parseOpenSSH reads the one-line form written by ssh-keygen and puttygen -L
// (sshd(8) "AUTHORIZED_KEYS FILE FORMAT" without options):
// "type base64-blob [comment]". data is already trimmed.
func parseOpenSSH(data []byte) (Key, error) {
	if bytes.ContainsAny(data, "\r\n") {
		lines := 0
		for _, l := range bytes.FieldsFunc(data, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		return Key{}, malformed("openssh: expected a single key line, found %d non-empty lines; send one key per file", lines)
	}
	line := string(data)
	fields := strings.FieldsFunc(line, isBlank)
	typ := fields[0]
	if !looksLikeKeyType(typ) {
		for _, f := range fields[1:] {
			if looksLikeKeyType(f) {
				return Key{}, malformed("openssh: the line starts with authorized_keys options (%s); "+
					"options are not accepted, send the bare public key line starting with %s", quote(typ), quote(f))
			}
		}
		if isDigits(typ) {
			return Key{}, unsupported("openssh: this looks like an SSH-1 RSA public key (bits exponent modulus); " +
				"SSH-1 is obsolete, please generate an RSA key of at least 2048 bits (puttygen -t rsa -b 2048)")
		}
		return Key{}, malformed("not a recognised public key format: expected a line such as " +
			"\"ssh-rsa AAAA... comment\", an RFC 4716 \"---- BEGIN SSH2 PUBLIC KEY ----\" block, a PEM public key or a PuTTY .ppk file")
	}
	if len(fields) < 2 {
		return Key{}, malformed("openssh: the base64 key data after %s is missing", quote(typ))
	}
	blob, err := strictB64.DecodeString(fields[1])
	if err != nil {
		return Key{}, malformed("openssh: the key data after %s is not valid base64 (damaged in copying?)", quote(typ))
	}
	// The comment is the rest of the line after the blob, inner spacing kept.
	rest := strings.TrimLeftFunc(line, isBlank)
	rest = strings.TrimLeftFunc(rest[len(typ):], isBlank)
	comment := strings.TrimFunc(rest[len(fields[1]):], isBlank)

	r := wireReader{b: blob}
	inner := r.string()
	if r.err != nil {
		return Key{}, malformed("openssh: key data: %v", r.err)
	}
	if inner != typ {
		return Key{}, malformed("openssh: the line says %s but the encoded key is %s", quote(typ), quote(inner))
	}
	pub, err := parseWireKey(blob)
	if err != nil {
		return Key{}, withPrefix("openssh", err)
	}
	return newKey(pub, comment, FormatOpenSSH)
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' }

// looksLikeKeyType tells a key type from an authorized_keys option such as
// from="..." or no-pty, which never start with these prefixes.
func looksLikeKeyType(s string) bool {
	return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-") ||
		strings.HasPrefix(s, "sk-") || strings.HasPrefix(s, "rsa-sha2-")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
