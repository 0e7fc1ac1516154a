package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"net"
	"testing"
	"time"
)

func TestSelfSignedIsMadeOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	a, err := SelfSigned(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf := a.Leaf
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if !leaf.IPAddresses[1].Equal(net.IPv6loopback) || leaf.NotAfter.Sub(now) > 398*24*time.Hour {
		t.Errorf("certificate %v %v", leaf.IPAddresses, leaf.NotAfter)
	}
	b, err := SelfSigned(dir, now.Add(100*24*time.Hour))
	if err != nil || b.Leaf.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("not reused: %v", err)
	}
	c, err := SelfSigned(dir, leaf.NotAfter)
	if err != nil || c.Leaf.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Fatalf("an expiring certificate was not renewed: %v", err)
	}
}

func TestTLSOptions(t *testing.T) {
	bad := []Options{
		{TLSSelfSigned: true, TLSCert: "c.pem", TLSKey: "k.pem"},
		{TLSCert: "c.pem"},
		{TLSKey: "k.pem"},
		{TLSCert: "/nonexistent/c.pem", TLSKey: "/nonexistent/k.pem"},
	}
	for _, o := range bad {
		if _, err := (&Server{Opts: o}).tlsConfig(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if c, err := (&Server{}).tlsConfig(); c != nil || err != nil {
		t.Errorf("no TLS options: %v %v", c, err)
	}
	dir := t.TempDir()
	c, err := (&Server{Opts: Options{DataDir: dir, TLSSelfSigned: true}}).tlsConfig()
	if err != nil || len(c.Certificates) != 1 || c.MinVersion < 0x0303 {
		t.Fatalf("self-signed: %v", err)
	}
}
