package smtpmail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is a minimal SMTP server for one session at a time: enough of
// RFC 5321 (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), RFC 3207 STARTTLS
// and RFC 4616 AUTH PLAIN to test the client. It records what it receives.
type fakeSMTP struct {
	t        *testing.T
	ln       net.Listener
	tls      *tls.Config // offered via STARTTLS when non-nil and !implicit
	implicit bool        // listener speaks TLS from the start
	user     string      // AUTH PLAIN credentials; AUTH offered only after TLS
	pass     string
	rcptCode int  // reply to RCPT; 250 when zero
	silent   bool // accept and never greet
	accepted chan struct{}

	mu       sync.Mutex
	from     string
	rcpts    []string
	data     []string
	authed   bool
	authTLS  bool // AUTH happened over TLS
	dataTLS  bool // DATA happened over TLS
	commands []string
}

func newFakeSMTP(t *testing.T, configure func(*fakeSMTP)) *fakeSMTP {
	t.Helper()
	s := &fakeSMTP{t: t, accepted: make(chan struct{}, 4)}
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.ln = ln
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted <- struct{}{}
			s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return s
}

func (s *fakeSMTP) addr() string { return s.ln.Addr().String() }

// received is what the server recorded, copied under the lock.
type received struct {
	from                     string
	rcpts, data              []string
	authed, authTLS, dataTLS bool
}

func (s *fakeSMTP) got() received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return received{s.from, append([]string(nil), s.rcpts...), append([]string(nil), s.data...), s.authed, s.authTLS, s.dataTLS}
}

func (s *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if s.silent {
		buf := make([]byte, 1)
		c.Read(buf) // until the client gives up
		return
	}
	_, isTLS := c.(*tls.Conn)
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) { tp.PrintfLine(format, args...) }
	reply("220 fake.test ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.commands = append(s.commands, line)
		s.mu.Unlock()
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"fake.test greets " + arg, "8BITMIME", "PIPELINING"}
			if s.tls != nil && !isTLS {
				ext = append(ext, "STARTTLS")
			}
			if s.user != "" && isTLS {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				reply("250%s%s", sep, e)
			}
		case "STARTTLS":
			if s.tls == nil || isTLS {
				reply("502 5.5.1 not available")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, isTLS = tc, true
			tp = textproto.NewConn(c)
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(raw), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			s.mu.Lock()
			s.authed, s.authTLS = true, isTLS
			s.mu.Unlock()
			reply("235 2.7.0 ok")
		case "MAIL":
			if s.user != "" && !s.authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			s.mu.Lock()
			s.from, _, _ = strings.Cut(strings.TrimPrefix(arg, "FROM:"), " ") // drop BODY=8BITMIME etc.
			s.mu.Unlock()
			reply("250 2.1.0 ok")
		case "RCPT":
			if s.rcptCode != 0 {
				reply("%d rejected", s.rcptCode)
				continue
			}
			s.mu.Lock()
			s.rcpts = append(s.rcpts, strings.TrimPrefix(arg, "TO:"))
			s.mu.Unlock()
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			// Read raw lines: textproto's dot reader would turn CRLF into LF
			// and hide bare LFs, which the test wants to see.
			var b strings.Builder
			for {
				l, err := tp.R.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // RFC 5321 §4.5.2 transparency
			}
			s.mu.Lock()
			s.data = append(s.data, b.String())
			s.dataTLS = isTLS
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("500 unknown command")
		}
	}
}

// testCert returns a server TLS config for 127.0.0.1 and a client config
// that trusts it.
func testCert(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}
