package smtpmail

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secure-login-system/sls/notify"
)

var fixedNow = time.Date(2026, 3, 1, 14, 5, 0, 0, time.FixedZone("CET", 3600))

func newMailer(t *testing.T, addr string, mut func(*Config)) *Mailer {
	t.Helper()
	cfg := Config{Addr: addr, From: "SLS Biztonság <no-reply@sls.example>", Now: func() time.Time { return fixedNow }, Timeout: 5 * time.Second}
	if mut != nil {
		mut(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// parsed is a received message with decoded headers and body.
type parsed struct {
	header  mail.Header
	subject string
	body    string
}

func parse(t *testing.T, raw string) parsed {
	t.Helper()
	for i, line := range strings.Split(raw, "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d longer than 998 octets", i)
		}
		if strings.Contains(line, "\n") {
			t.Errorf("bare LF in line %d", i)
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader
	switch cte := msg.Header.Get("Content-Transfer-Encoding"); cte {
	case "quoted-printable":
		r = quotedprintable.NewReader(msg.Body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, msg.Body)
	default:
		t.Fatalf("transfer encoding %q", cte)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	// MIME text uses CRLF; compare with the LF text notify renders.
	text := strings.TrimSuffix(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
	return parsed{header: msg.Header, subject: subject, body: text}
}

func TestSendHungarianPlainLoopback(t *testing.T) {
	srv := newFakeSMTP(t, nil)
	m := newMailer(t, srv.addr(), nil)
	msg, err := notify.NewMessage("notice-7", notify.ChannelEmail, "Kovács Éva <eva@example.hu>", notify.KindDeviceActivated, "hu-HU",
		map[string]string{"Device": "dscplus", "Time": notify.FormatTime(fixedNow, "hu")})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if srv.got().from != "<no-reply@sls.example>" || len(srv.got().rcpts) != 1 || srv.got().rcpts[0] != "<eva@example.hu>" || len(srv.got().data) != 1 {
		t.Fatalf("envelope from=%q rcpts=%q data=%d", srv.got().from, srv.got().rcpts, len(srv.got().data))
	}
	p := parse(t, srv.got().data[0])
	if p.header.Get("Content-Transfer-Encoding") != "quoted-printable" || !strings.Contains(srv.got().data[0], "=?utf-8?q?") {
		t.Errorf("Latin text should be quoted-printable:\n%s", srv.got().data[0])
	}
	if p.subject != "Új biztonsági eszköz aktiválva" || p.subject != msg.Subject {
		t.Errorf("subject %q", p.subject)
	}
	if p.body != msg.Body || !strings.Contains(p.body, "Digitális Biztonsági Kártya+") {
		t.Errorf("body %q", p.body)
	}
	from, err := p.header.AddressList("From")
	if err != nil || from[0].Name != "SLS Biztonság" || from[0].Address != "no-reply@sls.example" {
		t.Errorf("From %v %v", from, err)
	}
	to, err := p.header.AddressList("To")
	if err != nil || to[0].Name != "Kovács Éva" || to[0].Address != "eva@example.hu" {
		t.Errorf("To %v %v", to, err)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(fixedNow) {
		t.Errorf("Date %v %v", d, err)
	}
	for name, want := range map[string]string{
		"Content-Type": "text/plain; charset=utf-8", "MIME-Version": "1.0",
		"Content-Language": "hu", "Auto-Submitted": "auto-generated",
	} {
		if got := p.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	id := p.header.Get("Message-ID")
	if !strings.HasPrefix(id, "<sls.") || !strings.HasSuffix(id, "@sls.example>") || strings.Contains(id, "notice-7") {
		t.Errorf("Message-ID %q", id)
	}
	// The same notify id gives the same Message-ID: receivers can dedupe.
	again, _ := m.Compose(msg)
	if parse(t, string(again)).header.Get("Message-ID") != id {
		t.Error("Message-ID not stable")
	}
	other := msg
	other.ID = "notice-8"
	if o, _ := m.Compose(other); parse(t, string(o)).header.Get("Message-ID") == id {
		t.Error("Message-ID does not depend on the id")
	}
}

func TestSendChineseOverSTARTTLSWithAuth(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	srv := newFakeSMTP(t, func(s *fakeSMTP) { s.tls = serverTLS; s.user = "sls"; s.pass = "pa55" })
	m := newMailer(t, srv.addr(), func(c *Config) {
		c.TLSConfig = clientTLS
		c.Username, c.Password = "sls", "pa55"
		c.Security = SecurityStartTLS
	})
	msg, err := notify.NewMessage("n-zh", notify.ChannelEmail, "li@example.cn", notify.KindNewLogin, "zh-CN",
		map[string]string{"Platform": "Web 浏览器 (Windows)", "Address": "203.0.113.9", "Time": notify.FormatTime(fixedNow, "zh")})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if !srv.got().authed || !srv.got().authTLS || !srv.got().dataTLS {
		t.Fatalf("auth=%v authTLS=%v dataTLS=%v", srv.got().authed, srv.got().authTLS, srv.got().dataTLS)
	}
	p := parse(t, srv.got().data[0])
	if p.subject != "您的账户有新的登录" || p.body != msg.Body || p.header.Get("Content-Language") != "zh-Hans" {
		t.Errorf("subject %q body %q", p.subject, p.body)
	}
	if !strings.Contains(srv.got().data[0], "=?utf-8?b?") || p.header.Get("Content-Transfer-Encoding") != "base64" {
		t.Errorf("CJK text should be base64-encoded:\n%s", srv.got().data[0])
	}
}

func TestImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	srv := newFakeSMTP(t, func(s *fakeSMTP) { s.tls = serverTLS; s.implicit = true })
	m := newMailer(t, srv.addr(), func(c *Config) { c.TLSConfig = clientTLS; c.Security = SecurityImplicitTLS })
	if err := m.Send(context.Background(), sample("a@example.com")); err != nil {
		t.Fatal(err)
	}
	if !srv.got().dataTLS {
		t.Fatal("data not over TLS")
	}
}

func TestRefusesCleartextWhenTLSRequired(t *testing.T) {
	srv := newFakeSMTP(t, nil) // no STARTTLS
	m := newMailer(t, srv.addr(), func(c *Config) { c.Security = SecurityStartTLS })
	err := m.Send(context.Background(), sample("a@example.com"))
	if err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err %v", err)
	}
	if srv.got().from != "" || len(srv.got().data) != 0 {
		t.Fatal("mail sent in clear")
	}
	// The bad certificate of a server that offers STARTTLS stops the send too.
	serverTLS, _ := testCert(t)
	srv2 := newFakeSMTP(t, func(s *fakeSMTP) { s.tls = serverTLS })
	m2 := newMailer(t, srv2.addr(), nil)
	if err := m2.Send(context.Background(), sample("a@example.com")); err == nil || len(srv2.got().data) != 0 {
		t.Fatalf("untrusted certificate accepted: %v", err)
	}
}

func TestAuthFailureIsPermanent(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	srv := newFakeSMTP(t, func(s *fakeSMTP) { s.tls = serverTLS; s.user = "sls"; s.pass = "right" })
	m := newMailer(t, srv.addr(), func(c *Config) { c.TLSConfig = clientTLS; c.Username, c.Password = "sls", "wrong" })
	if err := m.Send(context.Background(), sample("a@example.com")); !notify.IsPermanent(err) {
		t.Fatalf("err %v", err)
	}
}

func TestReplyCodes(t *testing.T) {
	for code, permanent := range map[int]bool{550: true, 553: true, 451: false, 452: false} {
		srv := newFakeSMTP(t, func(s *fakeSMTP) { s.rcptCode = code })
		err := newMailer(t, srv.addr(), nil).Send(context.Background(), sample("a@example.com"))
		if err == nil || notify.IsPermanent(err) != permanent {
			t.Errorf("%d: %v permanent=%v", code, err, notify.IsPermanent(err))
		}
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	srv := newFakeSMTP(t, func(s *fakeSMTP) { s.silent = true })
	m := newMailer(t, srv.addr(), func(c *Config) { c.Timeout = 100 * time.Millisecond })
	start := time.Now()
	err := m.Send(context.Background(), sample("a@example.com"))
	if err == nil || notify.IsPermanent(err) || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
	<-srv.accepted

	m = newMailer(t, srv.addr(), func(c *Config) { c.Timeout = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-srv.accepted; cancel() }()
	err = m.Send(ctx, sample("a@example.com"))
	if !errors.Is(err, context.Canceled) || notify.IsPermanent(err) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestCompose(t *testing.T) {
	m := newMailer(t, "127.0.0.1:25", nil)
	long := strings.Repeat("Ez egy nagyon hosszú tárgysor ékezetes betűkkel, ", 4)
	body := "First line\n.starts with a dot\r\n" + strings.Repeat("é", 200) + "\nend"
	msg := notify.Message{ID: "c-1", Channel: notify.ChannelEmail, To: "a@example.com", Subject: long + "\r\nBcc: victim@example.com", Body: body, Lang: "xx"}
	raw, err := m.Compose(msg)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, string(raw))
	if p.header.Get("Bcc") != "" {
		t.Fatal("header injection")
	}
	if want := strings.TrimSpace(long) + " Bcc: victim@example.com"; p.subject != want {
		t.Errorf("subject\n got %q\nwant %q", p.subject, want)
	}
	if want := strings.ReplaceAll(body, "\r\n", "\n"); p.body != want {
		t.Errorf("body %q", p.body)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
	}
	if p.header.Get("Content-Language") != "" {
		t.Error("Content-Language for an unknown language")
	}
	for _, bad := range []notify.Message{
		{ID: "x", Channel: notify.ChannelEmail, To: "not an address", Body: "b"},
		{ID: "x", Channel: notify.ChannelEmail, To: "a@example.com", Body: ""},
	} {
		if _, err := m.Compose(bad); err == nil {
			t.Errorf("%+v composed", bad)
		}
	}
	if err := m.Send(context.Background(), notify.Message{ID: "x", Channel: notify.ChannelSMS, To: "+36201234567", Body: "b"}); !errors.Is(err, notify.ErrUnsupportedChannel) || !notify.IsPermanent(err) {
		t.Errorf("sms through smtp: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, c := range []Config{
		{Addr: "mail.example.com", From: "a@example.com"},
		{Addr: "mail.example.com:587", From: "nobody"},
		{Addr: "mail.example.com:587", From: "a@example.com", Security: 99},
		{Addr: "mail.example.com:587", From: "a@example.com", Password: "x"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func sample(to string) notify.Message {
	return notify.Message{ID: "s-1", Channel: notify.ChannelEmail, To: to, Subject: "Test", Body: "Hello"}
}

func TestComposeLongLatinLine(t *testing.T) {
	m := newMailer(t, "127.0.0.1:25", nil)
	body := strings.Repeat("Lorem ipsum dolor sit amet, árvíztűrő tükörfúrógép ", 10) + "\n.\n..\nend"
	raw, err := m.Compose(notify.Message{ID: "q", Channel: notify.ChannelEmail, To: "a@example.com", Subject: "s", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, string(raw))
	if p.header.Get("Content-Transfer-Encoding") != "quoted-printable" || p.body != body {
		t.Fatalf("body %q", p.body)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d octets", len(line))
		}
	}
}

func FuzzEncodeHeader(f *testing.F) {
	for _, s := range []string{"", "Hello", "Új biztonsági eszköz aktiválva", "您的账户有新的登录", "=?utf-8?q?x?=",
		strings.Repeat("x", 200), "a\r\nBcc: b", "😀 mixed ő 中"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		folded := fold("Subject: ", encodeHeader(s))
		lines := strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 78 || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("line %d of %q: %q", i, s, l)
			}
		}
		unfolded := strings.TrimPrefix(strings.Join(lines, ""), "Subject: ")
		got, err := new(mime.WordDecoder).DecodeHeader(unfolded)
		if err != nil {
			t.Fatalf("%q: %v", folded, err)
		}
		want := strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
		if got != want {
			t.Fatalf("round trip of %q: got %q", s, got)
		}
	})
}
