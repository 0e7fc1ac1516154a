package sshkey

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/ssh"
)

// The PuTTY key file format is described in the PuTTY manual, appendix C
// ("PPK file format"); section references below are to that appendix.

const (
	ppkNone      = "none"
	ppkAES256CBC = "aes256-cbc"

	// PuTTY writes base64 in lines of 64 characters (§C.2).
	ppkMaxLineLen = 64
	// Enough lines for the private part of a 16384-bit RSA key (~100).
	ppkMaxLines = 256

	// Limits on the Argon2 cost a file may ask for (§C.3). puttygen's
	// default is 8 MiB and a few passes; the limits leave room for users who
	// raise them a lot while keeping a hostile file from taking the process's
	// memory or minutes of CPU.
	MaxArgon2MemoryKiB = 1 << 20 // 1 GiB
	MaxArgon2Work      = 1 << 24 // memory (KiB) × passes: 16 GiB of block processing
	maxArgon2Lanes     = 255     // x/crypto/argon2 takes parallelism as a uint8
)

// Argon2Params are the key-derivation parameters of an encrypted version 3
// .ppk file (§C.3).
type Argon2Params struct {
	Variant     string // "Argon2id", "Argon2i" or "Argon2d", as in the Key-Derivation header
	MemoryKiB   uint32 // Argon2-Memory
	Passes      uint32 // Argon2-Passes
	Parallelism uint32 // Argon2-Parallelism
	Salt        []byte // Argon2-Salt
}

// PPK is a parsed PuTTY private key file (format version 2 or 3).
//
// The public part is readable without the passphrase. For an unencrypted
// file ParsePPK has already verified the MAC and read the private key. For
// an encrypted file the MAC can only be checked with the passphrase, so until
// then the public part is unauthenticated (which matters little: it is
// public, and the private key will be checked against it on decryption).
type PPK struct {
	Version    int           // 2 or 3
	Algorithm  string        // key type from the first line, e.g. "ssh-rsa"
	Encryption string        // "none" or "aes256-cbc"
	Comment    string        // Comment header, as in the file
	KDF        *Argon2Params // key derivation; nil unless Version is 3 and the file is encrypted

	pub     ssh.PublicKey
	pubBlob []byte
	private []byte // private blob as stored (ciphertext if encrypted)
	mac     []byte
	signer  crypto.Signer // the private key once read and verified
}

// Encrypted reports whether the private part is protected by a passphrase.
func (p *PPK) Encrypted() bool { return p.Encryption != ppkNone }

// PublicKey returns the public key. It needs no passphrase.
func (p *PPK) PublicKey() ssh.PublicKey { return p.pub }

// Key returns the public part under the acceptance policy of
// ParsePublicKey (for example, a 1024-bit RSA key is refused here although
// ParsePPK reads it).
func (p *PPK) Key() (Key, error) { return newKey(p.pub, p.Comment, FormatPPK) }

// PrivateKey returns the private key as a crypto.Signer: *rsa.PrivateKey,
// ed25519.PrivateKey or *ecdsa.PrivateKey. If the file is unencrypted, or was
// decrypted by ParsePPK, passphrase is not used. Otherwise passphrase
// decrypts it; nothing is cached, so a PPK is safe for concurrent use.
// Errors: ErrPassphraseRequired (encrypted, no passphrase),
// ErrWrongPassphrase (MAC mismatch), ErrUnsupported (Argon2 cost above the
// limits), ErrMalformed (private part inconsistent with the public key).
func (p *PPK) PrivateKey(passphrase []byte) (crypto.Signer, error) {
	if p.signer != nil {
		return p.signer, nil
	}
	if len(passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	return p.decrypt(passphrase)
}

// ParsePPK reads a PuTTY .ppk file of format version 2 or 3 holding an
// ssh-rsa, ssh-ed25519 or ecdsa-sha2-nistp256/384/521 key, with Encryption
// none or aes256-cbc (key derivation: version 2 SHA-1 based, version 3
// Argon2id, Argon2i or Argon2d).
//
// For an unencrypted file the MAC is verified (ErrBadMAC) and the private
// key read; passphrase is ignored. For an encrypted file with a non-empty passphrase the private key
// is decrypted and verified too (ErrWrongPassphrase); with an empty
// passphrase only the public part is read and PPK.PrivateKey can decrypt
// later. The header is checked strictly: field order, line counts, base64
// and known values.
func ParsePPK(data, passphrase []byte) (*PPK, error) {
	p, err := parsePPKStructure(data)
	if err != nil {
		return nil, err
	}
	if !p.Encrypted() {
		if err := p.verifyMAC(p.private, nil); err != nil {
			return nil, err
		}
		p.signer, err = p.parsePrivate(p.private)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	if len(passphrase) > 0 {
		p.signer, err = p.decrypt(passphrase)
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// publicFromPPK serves ParsePublicKey: the policy decides first, so that a
// weak key gets that message rather than a complaint about its private
// part; the MAC of an unencrypted file is checked because it is free.
func publicFromPPK(data []byte) (Key, error) {
	p, err := parsePPKStructure(data)
	if err != nil {
		return Key{}, err
	}
	k, err := p.Key()
	if err != nil {
		return Key{}, err
	}
	if !p.Encrypted() {
		if err := p.verifyMAC(p.private, nil); err != nil {
			return Key{}, err
		}
	}
	return k, nil
}

// ppkLines walks the lines of a .ppk file, numbering them for messages.
type ppkLines struct {
	lines []string
	n     int
}

func (l *ppkLines) next() (string, bool) {
	if l.n >= len(l.lines) {
		return "", false
	}
	s := l.lines[l.n]
	l.n++
	return s, true
}

// header reads the next line as "Name: value" with the given name (§C.1).
func (l *ppkLines) header(name string) (string, error) {
	line, ok := l.next()
	if !ok {
		return "", malformed("ppk: the file ends where the %q header should be (truncated?)", name)
	}
	got, value, found := strings.Cut(line, ":")
	if !found || got != name {
		return "", malformed("ppk: line %d: expected the %q header, found %s", l.n, name, quote(line))
	}
	// PuTTY writes "Name: value"; an empty comment leaves "Comment: " whose
	// trailing space editors often strip, so the space is optional there.
	if value != "" {
		if value[0] != ' ' {
			return "", malformed("ppk: line %d: expected a space after %q", l.n, name+":")
		}
		value = value[1:]
	}
	return value, nil
}

func (l *ppkLines) number(name string, min, max uint64) (uint64, error) {
	v, err := l.header(name)
	if err != nil {
		return 0, err
	}
	n, ok := parseDecimal(v)
	if !ok || n < min || n > max {
		return 0, malformed("ppk: line %d: %s must be a number from %d to %d, found %s", l.n, name, min, max, quote(v))
	}
	return n, nil
}

// base64Lines reads a "<name>-Lines: N" header and the N lines after it.
func (l *ppkLines) base64Lines(name string) ([]byte, error) {
	count, err := l.number(name+"-Lines", 1, ppkMaxLines)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for i := uint64(0); i < count; i++ {
		line, ok := l.next()
		if !ok {
			return nil, malformed("ppk: %s key data: the file ends after %d of the %d lines announced (truncated?)", strings.ToLower(name), i, count)
		}
		if len(line) == 0 || len(line) > ppkMaxLineLen || len(line)%4 != 0 || strings.Contains(line, ":") {
			return nil, malformed("ppk: line %d: expected line %d of %d of %s key data (base64, at most %d characters), found %s",
				l.n, i+1, count, strings.ToLower(name), ppkMaxLineLen, quote(line))
		}
		b.WriteString(line)
	}
	blob, err := strictB64.DecodeString(b.String())
	if err != nil {
		return nil, malformed("ppk: the %s key data is not valid base64", strings.ToLower(name))
	}
	return blob, nil
}

func parsePPKStructure(data []byte) (*PPK, error) {
	if len(data) > maxInput {
		return nil, malformed("ppk: file is %d bytes; a PuTTY key file is at most %d", len(data), maxInput)
	}
	d := bytes.TrimSpace(bytes.TrimPrefix(data, utf8BOM))
	text := strings.ReplaceAll(string(d), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	l := &ppkLines{lines: strings.Split(text, "\n")}

	first, _ := l.next()
	name, alg, found := strings.Cut(first, ": ")
	version, isPPK := strings.CutPrefix(name, "PuTTY-User-Key-File-")
	if !found || !isPPK {
		return nil, malformed("ppk: not a PuTTY key file: the first line must be \"PuTTY-User-Key-File-<version>: <key type>\"")
	}
	p := &PPK{Algorithm: alg}
	switch version {
	case "2":
		p.Version = 2
	case "3":
		p.Version = 3
	case "1":
		return nil, unsupported("ppk: PuTTY key file format version 1 is not supported; " +
			"load the key in a current PuTTYgen and save it again")
	default:
		return nil, unsupported("ppk: unknown PuTTY key file format version %s; versions 2 and 3 are supported", quote(version))
	}
	if err := checkKeyType(alg); err != nil {
		return nil, withPrefix("ppk", err)
	}

	var err error
	if p.Encryption, err = l.header("Encryption"); err != nil {
		return nil, err
	}
	switch p.Encryption {
	case ppkNone, ppkAES256CBC:
	default:
		return nil, unsupported("ppk: unknown encryption %s; PuTTY files use \"none\" or \"aes256-cbc\"", quote(p.Encryption))
	}
	if p.Comment, err = l.header("Comment"); err != nil {
		return nil, err
	}
	if p.pubBlob, err = l.base64Lines("Public"); err != nil {
		return nil, err
	}
	if p.Version == 3 && p.Encrypted() {
		if p.KDF, err = l.argon2Params(); err != nil {
			return nil, err
		}
	}
	if p.private, err = l.base64Lines("Private"); err != nil {
		return nil, err
	}
	macHex, err := l.header("Private-MAC")
	if err != nil {
		return nil, err
	}
	macLen := sha1.Size
	if p.Version == 3 {
		macLen = sha256.Size
	}
	if p.mac, err = hex.DecodeString(macHex); err != nil || len(p.mac) != macLen {
		return nil, malformed("ppk: line %d: Private-MAC must be %d hexadecimal digits", l.n, 2*macLen)
	}
	if line, ok := l.next(); ok {
		return nil, malformed("ppk: line %d: unexpected data after Private-MAC: %s", l.n, quote(line))
	}

	if p.Encrypted() && len(p.private)%aes.BlockSize != 0 {
		return nil, malformed("ppk: the encrypted private key data is %d bytes, not a multiple of the AES block size", len(p.private))
	}
	if p.pub, err = parseWireKey(p.pubBlob); err != nil {
		return nil, withPrefix("ppk: public key", err)
	}
	if p.pub.Type() != p.Algorithm {
		return nil, malformed("ppk: the first line says %s but the public key is %s", quote(p.Algorithm), quote(p.pub.Type()))
	}
	return p, nil
}

// argon2Params reads the key-derivation headers of §C.3, in the order
// PuTTY writes them.
func (l *ppkLines) argon2Params() (*Argon2Params, error) {
	variant, err := l.header("Key-Derivation")
	if err != nil {
		return nil, err
	}
	switch variant {
	case "Argon2id", "Argon2i", "Argon2d":
	default:
		return nil, unsupported("ppk: unknown key derivation %s; PuTTY uses Argon2id, Argon2i or Argon2d", quote(variant))
	}
	k := &Argon2Params{Variant: variant}
	mem, err := l.number("Argon2-Memory", 1, 1<<32-1)
	if err != nil {
		return nil, err
	}
	passes, err := l.number("Argon2-Passes", 1, 1<<32-1)
	if err != nil {
		return nil, err
	}
	// RFC 9106 §3.1 allows up to 2^24-1 lanes; PuTTY writes 1 and the
	// x/crypto implementation takes at most 255.
	lanes, err := l.number("Argon2-Parallelism", 1, maxArgon2Lanes)
	if err != nil {
		return nil, err
	}
	k.MemoryKiB, k.Passes, k.Parallelism = uint32(mem), uint32(passes), uint32(lanes)
	// RFC 9106 §3.1: memory is at least 8 KiB per lane.
	if uint64(k.MemoryKiB) < 8*uint64(k.Parallelism) {
		return nil, malformed("ppk: Argon2-Memory %d is below the minimum of 8 KiB per lane (%d lanes)", k.MemoryKiB, k.Parallelism)
	}
	salt, err := l.header("Argon2-Salt")
	if err != nil {
		return nil, err
	}
	// RFC 9106 §3.1: the salt is at least 8 bytes; PuTTY uses 16.
	if k.Salt, err = hex.DecodeString(salt); err != nil || len(k.Salt) < 8 || len(k.Salt) > 1024 {
		return nil, malformed("ppk: line %d: Argon2-Salt must be 16 to 2048 hexadecimal digits", l.n)
	}
	return k, nil
}

func parseDecimal(s string) (uint64, bool) {
	// No sign, no leading zeros, at most 10 digits (fits any uint32).
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}

// macKeyV2 is §C.4 for version 2: SHA-1("putty-private-key-file-mac-key"
// || passphrase), the passphrase being empty for unencrypted files.
func macKeyV2(passphrase []byte) []byte {
	h := sha1.New()
	h.Write([]byte("putty-private-key-file-mac-key"))
	h.Write(passphrase)
	return h.Sum(nil)
}

// verifyMAC checks Private-MAC over the fields of §C.4, each as an SSH
// string, the private blob being the decrypted one including its padding.
// macKey nil means the file is unencrypted.
func (p *PPK) verifyMAC(plain, macKey []byte) error {
	var h hash.Hash
	if p.Version == 2 {
		if macKey == nil {
			macKey = macKeyV2(nil)
		}
		h = hmac.New(sha1.New, macKey)
	} else {
		// Version 3 unencrypted: the MAC key is empty (§C.4).
		h = hmac.New(sha256.New, macKey)
	}
	h.Write(p.macData(plain))
	if !hmac.Equal(h.Sum(nil), p.mac) {
		if p.Encrypted() {
			return ErrWrongPassphrase
		}
		return ErrBadMAC
	}
	return nil
}

func (p *PPK) macData(plain []byte) []byte {
	var b []byte
	b = appendString(b, []byte(p.Algorithm))
	b = appendString(b, []byte(p.Encryption))
	b = appendString(b, []byte(p.Comment))
	b = appendString(b, p.pubBlob)
	return appendString(b, plain)
}

// decrypt derives the keys, decrypts, verifies the MAC and reads the
// private key.
func (p *PPK) decrypt(passphrase []byte) (crypto.Signer, error) {
	plain, macKey, err := p.decryptBlob(passphrase)
	if err != nil {
		return nil, err
	}
	if err := p.verifyMAC(plain, macKey); err != nil {
		return nil, err
	}
	return p.parsePrivate(plain)
}

// decryptBlob derives the cipher key, IV and MAC key (§C.3) and decrypts
// the private blob; the MAC is not checked yet.
func (p *PPK) decryptBlob(passphrase []byte) (plain, macKey []byte, err error) {
	var cipherKey, iv []byte
	if p.Version == 2 {
		// Version 2: key = SHA-1(uint32 0 || pass) || SHA-1(uint32 1 || pass)
		// truncated to 32 bytes, IV zero, MAC key as macKeyV2.
		var k []byte
		for i := uint32(0); i < 2; i++ {
			h := sha1.New()
			h.Write(binary.BigEndian.AppendUint32(nil, i))
			h.Write(passphrase)
			k = h.Sum(k)
		}
		cipherKey, iv, macKey = k[:32], make([]byte, aes.BlockSize), macKeyV2(passphrase)
	} else {
		// Version 3: Argon2 output split into key, IV and MAC key.
		out, err := p.KDF.derive(passphrase, 32+aes.BlockSize+32)
		if err != nil {
			return nil, nil, err
		}
		cipherKey, iv, macKey = out[:32], out[32:48], out[48:]
	}
	block, err := aes.NewCipher(cipherKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sshkey: ppk: %w", err)
	}
	plain = make([]byte, len(p.private))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, p.private)
	return plain, macKey, nil
}

// derive runs Argon2 with password = passphrase, the file's salt, no secret
// and no associated data (§C.3).
func (k *Argon2Params) derive(passphrase []byte, n uint32) ([]byte, error) {
	if k.MemoryKiB > MaxArgon2MemoryKiB || uint64(k.MemoryKiB)*uint64(k.Passes) > MaxArgon2Work {
		return nil, unsupported("ppk: the key derivation asks for %d KiB × %d passes of Argon2, above this system's limit "+
			"(%d KiB, %d KiB × passes); re-save the key with the default PuTTYgen parameters",
			k.MemoryKiB, k.Passes, MaxArgon2MemoryKiB, MaxArgon2Work)
	}
	switch k.Variant {
	case "Argon2id":
		return argon2.IDKey(passphrase, k.Salt, k.Passes, k.MemoryKiB, uint8(k.Parallelism), n), nil
	case "Argon2i":
		return argon2.Key(passphrase, k.Salt, k.Passes, k.MemoryKiB, uint8(k.Parallelism), n), nil
	case "Argon2d":
		return argon2Hash(argon2d, passphrase, k.Salt, nil, nil, k.Passes, k.MemoryKiB, k.Parallelism, n), nil
	}
	return nil, unsupported("ppk: unknown key derivation %s", quote(k.Variant))
}

// parsePrivate reads the private blob of §C.5 for the key type and checks
// that it belongs to the public key.
func (p *PPK) parsePrivate(blob []byte) (crypto.Signer, error) {
	r := wireReader{b: blob}
	var signer crypto.Signer
	var err error
	switch pub := p.pub.(ssh.CryptoPublicKey).CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		// ssh-rsa: mpint d, mpint p, mpint q, mpint iqmp.
		d, pp, q, iqmp := r.mpint(), r.mpint(), r.mpint(), r.mpint()
		if r.err == nil {
			signer, err = rsaPrivate(pub, d, pp, q, iqmp)
		}
	case ed25519.PublicKey:
		// ssh-ed25519: string holding the 32-byte seed (PuTTY stores the
		// secret as a fixed-length little-endian integer, which is the seed
		// byte for byte).
		seed := r.bytes()
		if r.err == nil {
			if len(seed) != ed25519.SeedSize {
				err = malformed("ppk: Ed25519 private key is %d bytes, expected %d", len(seed), ed25519.SeedSize)
				break
			}
			k := ed25519.NewKeyFromSeed(seed)
			if !k.Public().(ed25519.PublicKey).Equal(pub) {
				err = malformed("ppk: the private key does not match the public key")
				break
			}
			signer = k
		}
	case *ecdsa.PublicKey:
		// ecdsa-sha2-*: mpint d.
		d := r.mpint()
		if r.err == nil {
			signer, err = ecdsaPrivate(pub, d)
		}
	default:
		return nil, unsupported("ppk: private keys of type %s are not supported", quote(p.Algorithm))
	}
	if r.err != nil {
		return nil, malformed("ppk: private key data: %v", r.err)
	}
	if err != nil {
		return nil, err
	}
	// Encrypted blobs are padded to the cipher block (§C.5); unencrypted
	// ones are not padded at all.
	if (!p.Encrypted() && len(r.b) > 0) || len(r.b) >= aes.BlockSize {
		return nil, malformed("ppk: private key data: %d bytes of trailing garbage", len(r.b))
	}
	return signer, nil
}

func rsaPrivate(pub *rsa.PublicKey, d, p, q, iqmp *big.Int) (*rsa.PrivateKey, error) {
	mismatch := malformed("ppk: the RSA private key does not match the public key")
	one := big.NewInt(1)
	if p.Cmp(one) <= 0 || q.Cmp(one) <= 0 || new(big.Int).Mul(p, q).Cmp(pub.N) != 0 {
		return nil, mismatch
	}
	// iqmp = q^-1 mod p in PuTTY's layout.
	if new(big.Int).Mod(new(big.Int).Mul(iqmp, q), p).Cmp(one) != 0 {
		return nil, mismatch
	}
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Set(pub.N), E: pub.E},
		D:         d,
		Primes:    []*big.Int{p, q},
	}
	if err := k.Validate(); err != nil {
		return nil, malformed("ppk: the RSA private key is not valid: %s", strings.TrimPrefix(err.Error(), "crypto/rsa: "))
	}
	k.Precompute()
	return k, nil
}

func ecdsaPrivate(pub *ecdsa.PublicKey, d *big.Int) (*ecdsa.PrivateKey, error) {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if d.BitLen() > 8*size {
		return nil, malformed("ppk: the ECDSA private key is too large for %s", pub.Curve.Params().Name)
	}
	k, err := ecdsa.ParseRawPrivateKey(pub.Curve, d.FillBytes(make([]byte, size)))
	if err != nil {
		return nil, malformed("ppk: the ECDSA private key is not valid: %s", strings.TrimPrefix(err.Error(), "ecdsa: "))
	}
	if !k.PublicKey.Equal(pub) {
		return nil, malformed("ppk: the private key does not match the public key")
	}
	return k, nil
}
