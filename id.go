package sls

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix + "_" + 80 random bits, for row ids that are not
// secrets (they appear in URLs and logs).
func NewID(prefix string) string {
	b := make([]byte, 10)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return prefix + "_" + idEncoding.EncodeToString(b)
}

// NewToken returns prefix + "_" + 256 random bits, for bearer secrets
// (session tokens, login ids, operator tokens). OWASP ASVS V3.2.2 asks for
// at least 64 bits of entropy; the issue asks for at least 128.
func NewToken(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + "_" + base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash is how a bearer secret is stored: the hex SHA-256 of the token.
// Tokens carry 256 random bits, so a fast hash suffices: there is nothing
// to guess offline.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
