package notify

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Channel is a delivery channel. The values are stored with queued messages
// and in preferences; never rename one.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"   // text message to an E.164 mobile number
	ChannelVoice Channel = "voice" // automated call reading the text aloud
	ChannelEmail Channel = "email" // email to an address
	ChannelPush  Channel = "push"  // push notification to an app instance
)

// AllChannels lists every channel.
var AllChannels = []Channel{ChannelSMS, ChannelVoice, ChannelEmail, ChannelPush}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelSMS, ChannelVoice, ChannelEmail, ChannelPush:
		return true
	}
	return false
}

// Message is one outbound message, already rendered in its language.
type Message struct {
	// ID is stable for the life of the message, across retries: receivers
	// (webhook endpoints, mail servers via Message-ID) use it to drop
	// duplicates when a retry follows a send whose answer was lost.
	ID      string  `json:"id"`
	Channel Channel `json:"channel"`
	// To is an E.164 number (sms, voice), an email address (email) or an
	// opaque push target (push).
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"` // email subject / push title; unused by sms and voice
	Body    string `json:"body"`
	Lang    string `json:"lang,omitempty"` // language the text is written in (see MatchLang)
	Kind    Kind   `json:"kind,omitempty"`
}

// Limits on message fields. Bodies are bounded so that a runaway template or
// caller cannot make one message cost hundreds of SMS segments.
const (
	maxIDLen     = 200
	maxTargetLen = 4096
	maxBodyLen   = 16 << 10
	maxSubject   = 998 // RFC 5322 §2.1.1 line limit; adapters fold further
)

// Validate checks that m can be handed to an adapter: a printable ASCII id
// (it travels in HTTP and mail headers), a known channel, a recipient that
// fits the channel, and a non-empty UTF-8 body.
func (m Message) Validate() error {
	if m.ID == "" || len(m.ID) > maxIDLen {
		return fmt.Errorf("notify: message id must be 1-%d characters", maxIDLen)
	}
	for i := 0; i < len(m.ID); i++ {
		if m.ID[i] <= ' ' || m.ID[i] > '~' {
			return fmt.Errorf("notify: message id must be printable ASCII without spaces")
		}
	}
	if !m.Channel.Valid() {
		return fmt.Errorf("notify: unknown channel %q", m.Channel)
	}
	if err := validTarget(m.Channel, m.To); err != nil {
		return err
	}
	if strings.TrimSpace(m.Body) == "" {
		return fmt.Errorf("notify: empty body")
	}
	if len(m.Body) > maxBodyLen || !utf8.ValidString(m.Body) {
		return fmt.Errorf("notify: body must be valid UTF-8 of at most %d bytes", maxBodyLen)
	}
	if len(m.Subject) > maxSubject || !utf8.ValidString(m.Subject) {
		return fmt.Errorf("notify: subject must be valid UTF-8 of at most %d bytes", maxSubject)
	}
	return nil
}

func validTarget(c Channel, to string) error {
	switch c {
	case ChannelSMS, ChannelVoice:
		// Checked when the number was set; again here, at the last
		// moment, because numbering plans change (fail closed).
		if err := CheckReceiver(to, c); err != nil {
			return fmt.Errorf("notify: recipient: %w", err)
		}
	case ChannelEmail:
		a, err := mail.ParseAddress(to)
		if err != nil {
			return fmt.Errorf("notify: recipient: %w", err)
		}
		if strings.ContainsAny(a.Address, "\r\n") {
			return fmt.Errorf("notify: recipient contains a line break")
		}
	case ChannelPush:
		if to == "" || len(to) > maxTargetLen || !utf8.ValidString(to) {
			return fmt.Errorf("notify: push target must be 1-%d bytes of UTF-8", maxTargetLen)
		}
		for _, r := range to {
			if unicode.IsControl(r) {
				return fmt.Errorf("notify: push target contains a control character")
			}
		}
	}
	return nil
}

// Sender delivers one message.
//
// Send returns nil once the provider has accepted the message. An error
// wrapped with Permanent means retrying cannot help (invalid recipient,
// rejected content, unsupported channel); any other error is temporary and
// the caller should retry later with the same Message (same ID), waiting at
// least RetryAfter(err) when that is set. Send must honour ctx cancellation.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// Router sends each message with the Sender registered for its channel. It
// is immutable after NewRouter and safe for concurrent use.
type Router struct {
	senders map[Channel]Sender
}

var _ Sender = (*Router)(nil)

// NewRouter returns a Router for the given channels. A nil sender or an
// unknown channel is a wiring mistake and an error.
func NewRouter(routes map[Channel]Sender) (*Router, error) {
	r := &Router{senders: make(map[Channel]Sender, len(routes))}
	for c, s := range routes {
		if !c.Valid() {
			return nil, fmt.Errorf("notify: router: unknown channel %q", c)
		}
		if s == nil {
			return nil, fmt.Errorf("notify: router: nil sender for %s", c)
		}
		r.senders[c] = s
	}
	return r, nil
}

// Has reports whether a sender is registered for c.
func (r *Router) Has(c Channel) bool {
	_, ok := r.senders[c]
	return ok
}

// Send validates m and hands it to the sender of its channel. An invalid
// message and a channel without sender are permanent failures (the second
// wraps ErrNoSender): queued messages do not fix themselves, and an operator
// who adds a channel later re-queues what needs it.
func (r *Router) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return Permanent(err)
	}
	s, ok := r.senders[m.Channel]
	if !ok {
		return Permanent(fmt.Errorf("notify: %s: %w", m.Channel, ErrNoSender))
	}
	return s.Send(ctx, m)
}
