package notify

import (
	"fmt"
	"log/slog"
)

// SecureMessage is a message for the client's in-portal message center.
//
// SPEC §8: for security only a summary of a secure message is ever sent by
// email or SMS, never its body. The body is therefore unexported: no code
// outside this package can put it into a Message, and inside the package
// only BodyForMessageCenter reads it. fmt, slog and encoding/json see the
// id and summary only. The body sits behind a pointer because fmt, when it
// prints a struct that holds a SecureMessage in an unexported field (where
// Format cannot be called), shows nested pointers as addresses, not
// contents.
type SecureMessage struct {
	ID      string // stable id of the message in the message center
	Summary string // one line that may leave the portal, e.g. "Your March statement is ready"
	body    *string
}

// NewSecureMessage returns a secure message with its body.
func NewSecureMessage(id, summary, body string) SecureMessage {
	return SecureMessage{ID: id, Summary: summary, body: &body}
}

// BodyForMessageCenter returns the body. Call it only to store the message
// in, or show it from, the authenticated message center; never to build
// anything that leaves the portal.
func (m SecureMessage) BodyForMessageCenter() string {
	if m.body == nil {
		return ""
	}
	return *m.body
}

// String describes m without its body.
func (m SecureMessage) String() string {
	return fmt.Sprintf("SecureMessage{ID:%q Summary:%q}", m.ID, m.Summary)
}

// GoString describes m without its body.
func (m SecureMessage) GoString() string { return m.String() }

// Format prints the String form for every verb, so that %+v, %#v and %x
// (which would otherwise print unexported fields) cannot leak the body
// into a log line.
func (m SecureMessage) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(m.String())) }

// LogValue keeps the body out of structured logs.
func (m SecureMessage) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", m.ID), slog.String("summary", m.Summary))
}

// SecureMessageNotice builds the email, SMS or push notice that a secure
// message is waiting, in lang (falling back to English), from the summary
// alone. Voice is refused: there is nothing to read aloud that a notice by
// another channel would not say better. To is left empty for the caller;
// the id is derived from the secure message and the channel, so the notice
// is deduplicated per channel.
func SecureMessageNotice(msg SecureMessage, channel Channel, lang string) (Message, error) {
	switch channel {
	case ChannelEmail, ChannelSMS, ChannelPush:
	default:
		return Message{}, fmt.Errorf("notify: secure message notice: channel %q not allowed", channel)
	}
	if msg.ID == "" {
		return Message{}, fmt.Errorf("notify: secure message notice: empty id")
	}
	subject, body, err := Render(KindSecureMessageSummary, lang, map[string]string{"Summary": msg.Summary})
	if err != nil {
		return Message{}, fmt.Errorf("notify: secure message notice: %w", err)
	}
	m := Message{
		ID:      "secmsg:" + msg.ID + ":" + string(channel),
		Channel: channel,
		Subject: subject,
		Body:    body,
		Lang:    TemplateLang(KindSecureMessageSummary, lang),
		Kind:    KindSecureMessageSummary,
	}
	// Validate with a placeholder recipient: everything but To must be fit
	// to send already, notably the id, which comes from outside.
	probe := m
	probe.To = map[Channel]string{ChannelEmail: "x@example.com", ChannelSMS: "+36201234567", ChannelPush: "x"}[channel]
	if err := probe.Validate(); err != nil {
		return Message{}, fmt.Errorf("notify: secure message notice: %w", err)
	}
	return m, nil
}
