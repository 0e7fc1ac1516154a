package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Self-signed certificate files in the data directory (--tls-self-signed).
const (
	SelfSignedCertFile = "tls-self-signed.crt"
	SelfSignedKeyFile  = "tls-self-signed.key"
)

// selfSignedLifetime: long enough for local use without renewals, short of
// the 398 days browsers accept for a leaf certificate (CA/B Forum Baseline
// Requirements §6.3.2), which some also apply to local trust.
const selfSignedLifetime = 397 * 24 * time.Hour

// tlsConfig is the HTTPS configuration the options ask for, or nil for
// plain HTTP.
func (s *Server) tlsConfig() (*tls.Config, error) {
	o := s.Opts
	certFile, keyFile := o.TLSCert, o.TLSKey
	switch {
	case o.TLSSelfSigned && (certFile != "" || keyFile != ""):
		return nil, errors.New("server: tls: --tls-self-signed and --tls-cert/--tls-key exclude each other")
	case o.TLSSelfSigned:
		cert, err := SelfSigned(o.DataDir, time.Now())
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "" || keyFile == "":
		return nil, errors.New("server: tls: --tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("server: tls: %w", err)
	}
	// TLS 1.2 at least (NIST SP 800-52r2 §3.1); Go's default suites.
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// SelfSigned returns the self-signed certificate kept in dir, making it on
// first use (ECDSA P-256; names localhost, 127.0.0.1 and ::1). An existing
// one is reused until a day before it expires, so a browser or client told
// to trust it keeps trusting it across restarts; nodes sharing the
// directory share it (start one first).
func SelfSigned(dir string, now time.Time) (tls.Certificate, error) {
	certFile, keyFile := filepath.Join(dir, SelfSignedCertFile), filepath.Join(dir, SelfSignedKeyFile)
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && c.Leaf != nil && now.Add(24*time.Hour).Before(c.Leaf.NotAfter) {
		return c, nil
	}
	fail := func(err error) (tls.Certificate, error) { return tls.Certificate{}, err }
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fail(fmt.Errorf("server: tls: key: %w", err))
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return fail(fmt.Errorf("server: tls: serial: %w", err))
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"SLS self-signed (local use)"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// It signs itself, so it is its own CA: clients can trust it as a root.
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fail(fmt.Errorf("server: tls: certificate: %w", err))
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fail(fmt.Errorf("server: tls: key: %w", err))
	}
	// Each file by rename, so a reader never sees half a file.
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return fail(err)
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return fail(err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("server: tls: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	err = errors.Join(werr, f.Chmod(mode), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("server: tls: writing %s: %w", path, err)
	}
	return nil
}
