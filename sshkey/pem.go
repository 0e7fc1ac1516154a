package sshkey

import (
	"bytes"
	//lint:ignore SA1019 only to recognise and refuse DSA keys
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"sort"
	"strings"

	"golang.org/x/crypto/ssh"
)

// parsePEM reads a PEM (RFC 7468) public key: "PUBLIC KEY" holds an X.509
// SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), as written by openssl and
// ssh-keygen -e -m PKCS8; "RSA PUBLIC KEY" holds a PKCS#1 RSAPublicKey
// (RFC 8017 §A.1.1), as written by ssh-keygen -e -m PEM.
func parsePEM(data []byte) (Key, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return Key{}, malformed("pem: cannot decode the PEM block: check the BEGIN and END lines and the base64 between them")
	}
	if r := bytes.TrimSpace(rest); len(r) > 0 {
		if bytes.Contains(r, []byte("-----BEGIN ")) {
			return Key{}, malformed("pem: more than one PEM block; send one key per file")
		}
		return Key{}, malformed("pem: unexpected data after the END line")
	}
	switch block.Type {
	case "PUBLIC KEY", "RSA PUBLIC KEY":
	case "OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "DSA PRIVATE KEY", "EC PRIVATE KEY",
		"PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return Key{}, privateKeyError("a private key (PEM " + quote(block.Type) + ")")
	case "CERTIFICATE":
		return Key{}, unsupported("pem: this is an X.509 certificate, not an SSH public key; send the SSH public key (puttygen -L KEYFILE)")
	default:
		return Key{}, unsupported("pem: PEM type %s is not a public key format this system reads; "+
			"expected \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"", quote(block.Type))
	}
	if len(block.Headers) > 0 {
		names := make([]string, 0, len(block.Headers))
		for k := range block.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		return Key{}, malformed("pem: unexpected PEM headers (%s); a public key has none", quote(strings.Join(names, ", ")))
	}

	if block.Type == "RSA PUBLIC KEY" {
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return Key{}, malformed("pem: RSA PUBLIC KEY: %s", strings.TrimPrefix(err.Error(), "x509: "))
		}
		return fromCrypto(k, FormatPKCS1)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "x509: ")
		if strings.Contains(msg, "unknown public key algorithm") {
			return Key{}, unsupported("pem: PUBLIC KEY uses an algorithm this system does not accept; %s", acceptedTypes)
		}
		if strings.Contains(msg, "unsupported elliptic curve") {
			return Key{}, unsupported("pem: PUBLIC KEY uses an elliptic curve this system does not accept; %s", acceptedTypes)
		}
		return Key{}, malformed("pem: PUBLIC KEY: %s", msg)
	}
	return fromCrypto(k, FormatPKIX)
}

// fromCrypto turns a standard-library public key into an accepted Key.
func fromCrypto(k any, format Format) (Key, error) {
	switch k := k.(type) {
	case *rsa.PublicKey:
		if err := checkRSA(big.NewInt(int64(k.E)), k.N); err != nil {
			return Key{}, err
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return Key{}, unsupported("ECDSA curve %s is not accepted; %s", k.Curve.Params().Name, acceptedTypes)
		}
	case ed25519.PublicKey:
	case *dsa.PublicKey:
		return Key{}, checkKeyType("ssh-dss")
	case *ecdh.PublicKey:
		return Key{}, unsupported("this is an X25519/X448 key-agreement key, which cannot log in over SSH; %s", acceptedTypes)
	default:
		return Key{}, unsupported("this key algorithm is not accepted; %s", acceptedTypes)
	}
	pub, err := ssh.NewPublicKey(k)
	if err != nil {
		return Key{}, unsupported("%s: %v", format, err)
	}
	return newKey(pub, "", format)
}
