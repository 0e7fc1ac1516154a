package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPermanent(t *testing.T) {
	base := errors.New("boom")
	if Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	if IsPermanent(nil) || IsPermanent(base) {
		t.Fatal("plain error reported permanent")
	}
	p := fmt.Errorf("twilio: send: %w", Permanent(base))
	if !IsPermanent(p) || !errors.Is(p, base) {
		t.Fatalf("wrapping lost the mark or the cause: %v", p)
	}
	if p.Error() != "twilio: send: boom" {
		t.Fatalf("message = %q", p.Error())
	}
}

func TestRetryAfter(t *testing.T) {
	base := errors.New("busy")
	if WithRetryAfter(base, 0) != base || WithRetryAfter(nil, time.Second) != nil {
		t.Fatal("WithRetryAfter must pass through nil and non-positive waits")
	}
	e := fmt.Errorf("x: %w", WithRetryAfter(base, 30*time.Second))
	d, ok := RetryAfter(e)
	if !ok || d != 30*time.Second || !errors.Is(e, base) || IsPermanent(e) {
		t.Fatalf("RetryAfter = %v %v", d, ok)
	}
	if _, ok := RetryAfter(base); ok {
		t.Fatal("RetryAfter on plain error")
	}
}

func TestMessageValidate(t *testing.T) {
	good := Message{ID: "m-1", Channel: ChannelSMS, To: "+36201234567", Body: "hi"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(m *Message){
		"empty id":      func(m *Message) { m.ID = "" },
		"space in id":   func(m *Message) { m.ID = "a b" },
		"newline id":    func(m *Message) { m.ID = "a\nb" },
		"long id":       func(m *Message) { m.ID = strings.Repeat("a", 201) },
		"bad channel":   func(m *Message) { m.Channel = "fax" },
		"sms to email":  func(m *Message) { m.To = "a@example.com" },
		"voice no plus": func(m *Message) { m.Channel = ChannelVoice; m.To = "36201234567" },
		"email bad":     func(m *Message) { m.Channel = ChannelEmail; m.To = "not an address" },
		"email crlf":    func(m *Message) { m.Channel = ChannelEmail; m.To = "a@example.com\r\nBcc: b@example.com" },
		"push empty":    func(m *Message) { m.Channel = ChannelPush; m.To = "" },
		"push control":  func(m *Message) { m.Channel = ChannelPush; m.To = "tok\x00en" },
		"empty body":    func(m *Message) { m.Body = "  " },
		"bad utf8 body": func(m *Message) { m.Body = "\xff" },
		"huge body":     func(m *Message) { m.Body = strings.Repeat("x", 17<<10) },
	}
	for name, mut := range cases {
		m := good
		mut(&m)
		if err := m.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, m := range []Message{
		{ID: "x", Channel: ChannelEmail, To: "Ügyfél <kovacs@example.hu>", Body: "b"},
		{ID: "x", Channel: ChannelPush, To: "instance-42", Body: "b"},
		{ID: "x", Channel: ChannelVoice, To: "+85291234567", Body: "b"},
	} {
		if err := m.Validate(); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
}

type recorder struct {
	got []Message
	err error
}

func (r *recorder) Send(_ context.Context, m Message) error {
	r.got = append(r.got, m)
	return r.err
}

func TestRouter(t *testing.T) {
	sms, mail := &recorder{}, &recorder{err: errors.New("down")}
	r, err := NewRouter(map[Channel]Sender{ChannelSMS: sms, ChannelEmail: mail})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Send(ctx, Message{ID: "1", Channel: ChannelSMS, To: "+12015550123", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if len(sms.got) != 1 || len(mail.got) != 0 {
		t.Fatalf("routing: sms=%d mail=%d", len(sms.got), len(mail.got))
	}
	err = r.Send(ctx, Message{ID: "2", Channel: ChannelEmail, To: "a@example.com", Body: "x"})
	if err == nil || IsPermanent(err) {
		t.Fatalf("adapter error must pass through unchanged: %v", err)
	}
	err = r.Send(ctx, Message{ID: "3", Channel: ChannelPush, To: "tok", Body: "x"})
	if !errors.Is(err, ErrNoSender) || !IsPermanent(err) {
		t.Fatalf("missing sender: %v", err)
	}
	err = r.Send(ctx, Message{ID: "4", Channel: ChannelSMS, To: "0620123456", Body: "x"})
	if !IsPermanent(err) || len(sms.got) != 1 {
		t.Fatalf("invalid message reached the adapter or was not permanent: %v", err)
	}
	if !r.Has(ChannelSMS) || r.Has(ChannelVoice) {
		t.Fatal("Has")
	}
	if _, err := NewRouter(map[Channel]Sender{"fax": sms}); err == nil {
		t.Fatal("unknown channel accepted")
	}
	if _, err := NewRouter(map[Channel]Sender{ChannelSMS: nil}); err == nil {
		t.Fatal("nil sender accepted")
	}
	var f SenderFunc = func(context.Context, Message) error { return nil }
	if f.Send(ctx, Message{}) != nil {
		t.Fatal("SenderFunc")
	}
}
