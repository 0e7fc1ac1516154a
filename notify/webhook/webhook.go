// Package webhook delivers notify messages as signed JSON POSTs to an HTTPS
// endpoint: a relay to any SMS or email provider, a chat system, or the push
// gateway that reaches the mobile authenticator.
//
// Each request carries:
//
//	Content-Type: application/json
//	Idempotency-Key: <message id>          (the same on every retry)
//	X-SLS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// where v1 is HMAC-SHA256 (RFC 2104) keyed with the shared secret over the
// bytes "<t>.<body>". Binding the timestamp lets the receiver refuse
// replays older than its tolerance; VerifySignature does the receiving side.
// The receiver answers 2xx when it accepted the message (or already had
// it), 4xx when it never will (except 408 and 429), anything else to be
// retried.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/notify/internal/httpx"
)

// SignatureHeader is the header that carries the signature.
const SignatureHeader = "X-SLS-Signature"

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// MinSecretLen is the shortest accepted shared secret: 128 bits, the
// security level of HMAC-SHA256 against forgery that we rely on.
const MinSecretLen = 16

// Config configures a Sender.
type Config struct {
	// URL is the endpoint; https, or http to a loopback address.
	URL string
	// Secret is the shared HMAC key, at least MinSecretLen bytes.
	Secret []byte
	// Timeout bounds one attempt (connect, send, answer); default
	// DefaultTimeout.
	Timeout time.Duration
	// HTTPClient is the client to copy (transport, TLS roots); its redirect
	// policy is replaced so redirects are never followed. Default: a new
	// client with the default transport.
	HTTPClient *http.Client
	// Channels the endpoint serves; empty means all.
	Channels []notify.Channel
	// Now is the clock for the signature timestamp; default time.Now.
	Now func() time.Time
	// UserAgent defaults to "SLS-notify/1".
	UserAgent string
}

// Sender posts messages to one endpoint.
type Sender struct {
	url      string
	secret   []byte
	client   *http.Client
	channels map[notify.Channel]bool
	now      func() time.Time
	ua       string
}

var _ notify.Sender = (*Sender)(nil)

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	u, err := httpx.CheckURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook: url: %w", err)
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("webhook: secret must be at least %d bytes", MinSecretLen)
	}
	s := &Sender{
		url:    u.String(),
		secret: append([]byte(nil), cfg.Secret...),
		now:    cfg.Now,
		ua:     cfg.UserAgent,
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	s.client = httpx.Client(cfg.HTTPClient, timeout)
	if s.now == nil {
		s.now = time.Now
	}
	if s.ua == "" {
		s.ua = "SLS-notify/1"
	}
	if len(cfg.Channels) > 0 {
		s.channels = make(map[notify.Channel]bool)
		for _, c := range cfg.Channels {
			if !c.Valid() {
				return nil, fmt.Errorf("webhook: unknown channel %q", c)
			}
			s.channels[c] = true
		}
	}
	return s, nil
}

// Send posts m. See the package documentation for the error contract.
func (s *Sender) Send(ctx context.Context, m notify.Message) error {
	if s.channels != nil && !s.channels[m.Channel] {
		return notify.Permanent(fmt.Errorf("webhook: %s: %w", m.Channel, notify.ErrUnsupportedChannel))
	}
	if err := m.Validate(); err != nil {
		return notify.Permanent(fmt.Errorf("webhook: %w", err))
	}
	body, err := json.Marshal(m)
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook: request: %w", err))
	}
	now := s.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.ua)
	req.Header.Set("Idempotency-Key", m.ID)
	req.Header.Set(SignatureHeader, Sign(s.secret, now, body))
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	detail := strings.TrimSpace(string(httpx.ReadBody(resp.Body, httpx.MaxErrorBody)))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return httpx.StatusError("webhook: post", resp, detail, now)
}
