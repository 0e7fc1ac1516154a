// Package smtpmail sends notify email messages over SMTP (RFC 5321) as
// plain-text UTF-8 MIME mail (RFC 5322, RFC 2045–2047).
//
// Transport security: STARTTLS (RFC 3207) is used whenever the server
// offers it. If it does not, the default policy sends in clear only to a
// loopback server (a local MTA that relays onwards); anything else would
// put security codes on the network in clear. Implicit TLS (RFC 8314,
// port 465) is available too. Authentication is AUTH PLAIN (RFC 4616),
// only after TLS or to a loopback server.
//
// The Message-ID is derived from the notify message id, so a retry after a
// lost answer produces the same Message-ID and mail systems can drop the
// duplicate.
package smtpmail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secure-login-system/sls/notify"
)

// Security chooses how the connection is protected.
type Security int

// Security policies.
const (
	// SecurityDefault uses STARTTLS when offered and refuses to send in
	// clear except to a loopback server.
	SecurityDefault Security = iota
	// SecurityStartTLS requires STARTTLS, even on loopback.
	SecurityStartTLS
	// SecurityImplicitTLS connects with TLS from the first byte (port 465).
	SecurityImplicitTLS
	// SecurityOpportunistic uses STARTTLS when offered and sends in clear
	// otherwise. Only for closed networks.
	SecurityOpportunistic
)

// DefaultTimeout bounds a whole SMTP session when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config configures a Mailer.
type Config struct {
	Addr string // host:port of the submission server
	// From is the sender, "SLS <no-reply@example.com>" or a bare address;
	// its address is also the envelope sender.
	From     string
	Username string // AUTH PLAIN when set
	Password string
	// LocalName is the EHLO name; default "localhost".
	LocalName string
	Security  Security
	// TLSConfig for STARTTLS and implicit TLS; ServerName defaults to the
	// host of Addr.
	TLSConfig *tls.Config
	// Timeout bounds the whole session; default DefaultTimeout.
	Timeout time.Duration
	// Now dates the message; default time.Now.
	Now func() time.Time
}

// Mailer is a notify.Sender for ChannelEmail.
type Mailer struct {
	cfg    Config
	host   string
	from   *mail.Address
	domain string
	now    func() time.Time
}

var _ notify.Sender = (*Mailer)(nil)

// New checks cfg and returns a Mailer.
func New(cfg Config) (*Mailer, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("smtpmail: addr %q: want host:port", cfg.Addr)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtpmail: from: %w", err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at < 0 || strings.ContainsAny(from.Address, "\r\n<>") {
		return nil, fmt.Errorf("smtpmail: from %q has no domain", from.Address)
	}
	if cfg.Security < SecurityDefault || cfg.Security > SecurityOpportunistic {
		return nil, fmt.Errorf("smtpmail: unknown security policy %d", cfg.Security)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, fmt.Errorf("smtpmail: password without username")
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	m := &Mailer{cfg: cfg, host: host, from: from, domain: from.Address[at+1:], now: cfg.Now}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (m *Mailer) tlsConfig() *tls.Config {
	var c *tls.Config
	if m.cfg.TLSConfig != nil {
		c = m.cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = m.host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12 // RFC 8996 retires TLS 1.0 and 1.1
	}
	return c
}

// Send delivers msg. SMTP 5xx replies are permanent; 4xx replies, network
// failures, timeouts and a missing STARTTLS are temporary.
func (m *Mailer) Send(ctx context.Context, msg notify.Message) error {
	if msg.Channel != notify.ChannelEmail {
		return notify.Permanent(fmt.Errorf("smtpmail: %s: %w", msg.Channel, notify.ErrUnsupportedChannel))
	}
	data, rcpt, err := m.compose(msg)
	if err != nil {
		return notify.Permanent(err)
	}
	if err := m.deliver(ctx, rcpt, data); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smtpmail: %w (%v)", ctx.Err(), err)
		}
		return classify(err)
	}
	return nil
}

// Compose returns the RFC 5322 message Send would transmit for msg.
func (m *Mailer) Compose(msg notify.Message) ([]byte, error) {
	data, _, err := m.compose(msg)
	return data, err
}

func classify(err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 && tp.Code < 600 {
		return notify.Permanent(fmt.Errorf("smtpmail: %w", err))
	}
	return fmt.Errorf("smtpmail: %w", err)
}

func (m *Mailer) deliver(ctx context.Context, rcpt string, data []byte) error {
	deadline := time.Now().Add(m.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var conn net.Conn
	var err error
	d := &net.Dialer{}
	if m.cfg.Security == SecurityImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: d, Config: m.tlsConfig()}).DialContext(dctx, "tcp", m.cfg.Addr)
	} else {
		conn, err = d.DialContext(dctx, "tcp", m.cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	// One deadline for the whole conversation, and cancellation of ctx
	// interrupts any blocked read or write at once.
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(m.cfg.LocalName); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	_, secure := conn.(*tls.Conn)
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tlsConfig()); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
			secure = true
		}
	}
	if !secure {
		switch {
		case m.cfg.Security == SecurityOpportunistic:
		case m.cfg.Security == SecurityDefault && isLoopback(m.host):
		default:
			return errors.New("server does not offer STARTTLS; refusing to send in clear")
		}
	}
	if m.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("server does not offer AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	// The message was accepted at the end of DATA; a failed QUIT does not
	// undo that, and reporting it would make the outbox deliver it twice.
	_ = c.Quit()
	return nil
}

func (m *Mailer) compose(msg notify.Message) (data []byte, rcpt string, err error) {
	if err := msg.Validate(); err != nil {
		return nil, "", fmt.Errorf("smtpmail: %w", err)
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return nil, "", fmt.Errorf("smtpmail: to: %w", err)
	}
	sum := sha256.Sum256([]byte(msg.ID))
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name + ": " + value + "\r\n")
	}
	header("From", m.from.String())
	header("To", to.String())
	b.WriteString(fold("Subject: ", encodeHeader(msg.Subject)))
	header("Date", m.now().Format(time.RFC1123Z)) // RFC 5322 §3.3 date-time
	// The id is hashed: ids may hold characters a msg-id cannot, and the
	// hash keeps internal ids out of recipients' mailboxes.
	header("Message-ID", "<sls."+hex.EncodeToString(sum[:16])+"@"+m.domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	body := strings.ReplaceAll(strings.ReplaceAll(msg.Body, "\r\n", "\n"), "\r", "\n")
	body = strings.ReplaceAll(body, "\n", "\r\n") // RFC 2046 §4.1.1: text line breaks are CRLF
	// Quoted-printable keeps Latin text readable; for mostly non-Latin text
	// it triples the size, and base64 costs a third.
	useBase64 := nonASCII(body)*3 >= len(body)
	if useBase64 {
		header("Content-Transfer-Encoding", "base64")
	} else {
		header("Content-Transfer-Encoding", "quoted-printable")
	}
	if l, ok := notify.MatchLang(msg.Lang); ok {
		header("Content-Language", l) // RFC 3282
	}
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	b.WriteString("\r\n")
	if useBase64 {
		enc := base64.StdEncoding.EncodeToString([]byte(body))
		for len(enc) > 76 { // RFC 2045 §6.8: lines of at most 76 characters
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	} else {
		qp := quotedprintable.NewWriter(&b)
		if _, err := qp.Write([]byte(body)); err != nil {
			return nil, "", fmt.Errorf("smtpmail: body: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, "", fmt.Errorf("smtpmail: body: %w", err)
		}
		if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
			b.WriteString("\r\n") // DATA must end at a line break (RFC 5321 §4.1.1.4)
		}
	}
	return b.Bytes(), to.Address, nil
}

// encodeHeader flattens s to one line and, unless it is short-worded
// plain ASCII, writes it as RFC 2047 encoded-words: Q for mostly-Latin text
// (readable in raw form), B where Q would triple the size. Words are cut
// between characters so that each, with "Subject: " before it, stays within
// 75 characters (RFC 2047 §2) and the folded line within 78.
func encodeHeader(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	n := nonASCII(s)
	plain := n == 0 && !strings.Contains(s, "=?")
	for _, w := range strings.Fields(s) {
		if len(w) > maxWord {
			plain = false
		}
	}
	if plain {
		return s
	}
	useB := n*3 >= len(s)
	var words []string
	chunk := ""
	for _, r := range s {
		next := chunk + string(r)
		if chunk != "" && len(encodeWord(next, useB)) > maxWord {
			words = append(words, encodeWord(chunk, useB))
			next = string(r)
		}
		chunk = next
	}
	if chunk != "" {
		words = append(words, encodeWord(chunk, useB))
	}
	return strings.Join(words, " ")
}

func nonASCII(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			n++
		}
	}
	return n
}

// maxWord is the longest header word: 78 − len("Subject: ") − 3 to spare.
const maxWord = 66

// encodeWord writes one RFC 2047 encoded-word for s.
func encodeWord(s string, useB bool) string {
	if useB {
		return "=?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
	}
	var b strings.Builder
	b.WriteString("=?utf-8?q?")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('_')
		// RFC 2047 §5 (3): in a phrase only these may appear unencoded.
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '!', c == '*', c == '+', c == '-', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteString("?=")
	return b.String()
}

// fold writes "name value" folded at spaces so that lines stay within the
// 78 characters RFC 5322 §2.1.1 recommends where possible. Encoded-words
// contain no spaces and are never split.
func fold(name, value string) string {
	var b strings.Builder
	line := name
	for i, word := range strings.Split(value, " ") {
		switch {
		case i == 0:
			line += word
		case len(line)+1+len(word) > 78:
			b.WriteString(line + "\r\n")
			line = " " + word
		default:
			line += " " + word
		}
	}
	b.WriteString(line + "\r\n")
	return b.String()
}
