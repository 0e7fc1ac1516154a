package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secure-login-system/sls/notify"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// fakeReceiver is an endpoint that does what a careful receiver does:
// verify the signature, then drop duplicates by Idempotency-Key.
type fakeReceiver struct {
	mu     sync.Mutex
	got    []notify.Message
	keys   map[string]bool
	status int
	header http.Header
	errs   []error
}

func (f *fakeReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	fail := func(err error, code int) {
		f.errs = append(f.errs, err)
		http.Error(w, err.Error(), code)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		fail(errors.New("bad method or content type"), http.StatusBadRequest)
		return
	}
	if err := VerifySignature(secret, r.Header.Get(SignatureHeader), body, now.Add(3*time.Second), DefaultTolerance); err != nil {
		fail(err, http.StatusUnauthorized)
		return
	}
	var m notify.Message
	if err := json.Unmarshal(body, &m); err != nil {
		fail(err, http.StatusBadRequest)
		return
	}
	if r.Header.Get("Idempotency-Key") != m.ID {
		fail(errors.New("idempotency key differs from id"), http.StatusBadRequest)
		return
	}
	if f.status != 0 {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		http.Error(w, "configured failure", f.status)
		return
	}
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	if !f.keys[m.ID] {
		f.keys[m.ID] = true
		f.got = append(f.got, m)
	}
	w.WriteHeader(http.StatusAccepted)
}

// snapshot returns what the receiver recorded, under its lock.
func (f *fakeReceiver) snapshot() (got []notify.Message, errs []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]notify.Message(nil), f.got...), append([]error(nil), f.errs...)
}

func newSender(t *testing.T, srv *httptest.Server, mut func(*Config)) *Sender {
	t.Helper()
	cfg := Config{URL: srv.URL + "/hook", Secret: secret, HTTPClient: srv.Client(), Now: func() time.Time { return now }}
	if mut != nil {
		mut(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var msg = notify.Message{ID: "msg-1", Channel: notify.ChannelPush, To: "instance-9", Subject: "Új eszköz", Body: "新设备已激活 — code 123456", Lang: "zh-Hans", Kind: notify.KindDeviceActivated}

func TestSendSignedAndIdempotent(t *testing.T) {
	rcv := &fakeReceiver{}
	srv := httptest.NewTLSServer(rcv)
	defer srv.Close()
	s := newSender(t, srv, nil)
	for i := 0; i < 2; i++ { // a retry after a lost answer
		if err := s.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	got, errs := rcv.snapshot()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(got) != 1 || got[0] != msg {
		t.Fatalf("received %+v", got)
	}
}

func TestReceiverRejectsWrongSecret(t *testing.T) {
	rcv := &fakeReceiver{}
	srv := httptest.NewTLSServer(rcv)
	defer srv.Close()
	s := newSender(t, srv, func(c *Config) { c.Secret = []byte("another-secret-of-32-bytes......") })
	err := s.Send(context.Background(), msg)
	_, errs := rcv.snapshot()
	if !notify.IsPermanent(err) || len(errs) != 1 || !errors.Is(errs[0], ErrBadSignature) {
		t.Fatalf("err=%v receiver=%v", err, errs)
	}
	// A clock far off makes the receiver see a replay.
	s = newSender(t, srv, func(c *Config) { c.Now = func() time.Time { return now.Add(-time.Hour) } })
	err = s.Send(context.Background(), msg)
	_, errs = rcv.snapshot()
	if !notify.IsPermanent(err) || len(errs) != 2 || !errors.Is(errs[1], ErrStaleSignature) {
		t.Fatalf("stale: err=%v receiver=%v", err, errs)
	}
}

func TestStatusMapping(t *testing.T) {
	cases := []struct {
		status    int
		retry     string
		permanent bool
	}{
		{400, "", true}, {403, "", true}, {404, "", true}, {410, "", true}, {422, "", true},
		{408, "", false}, {429, "30", false}, {500, "", false}, {502, "", false}, {503, "5", false},
		{302, "", true}, {307, "", true},
	}
	for _, c := range cases {
		rcv := &fakeReceiver{status: c.status, header: http.Header{}}
		if c.retry != "" {
			rcv.header.Set("Retry-After", c.retry)
		}
		rcv.header.Set("Location", "https://elsewhere.example/")
		srv := httptest.NewTLSServer(rcv)
		err := newSender(t, srv, nil).Send(context.Background(), msg)
		srv.Close()
		if err == nil || notify.IsPermanent(err) != c.permanent {
			t.Errorf("%d: err=%v permanent=%v", c.status, err, notify.IsPermanent(err))
		}
		if d, ok := notify.RetryAfter(err); c.retry != "" && (!ok || d <= 0) {
			t.Errorf("%d: Retry-After lost: %v", c.status, err)
		}
		if !strings.Contains(err.Error(), "configured failure") {
			t.Errorf("%d: response text missing from %v", c.status, err)
		}
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	s := newSender(t, srv, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	start := time.Now()
	err := s.Send(context.Background(), msg)
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("timeout: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("timeout not applied")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s = newSender(t, srv, nil)
	if err := s.Send(ctx, msg); err == nil || notify.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestRefusesBeforeSending(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	s := newSender(t, srv, func(c *Config) { c.Channels = []notify.Channel{notify.ChannelPush} })
	sms := msg
	sms.Channel, sms.To = notify.ChannelSMS, "+36201234567"
	if err := s.Send(context.Background(), sms); !errors.Is(err, notify.ErrUnsupportedChannel) || !notify.IsPermanent(err) {
		t.Fatalf("unsupported channel: %v", err)
	}
	bad := msg
	bad.ID = "has space"
	if err := s.Send(context.Background(), bad); !notify.IsPermanent(err) {
		t.Fatalf("invalid message: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("request sent")
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, c := range []Config{
		{URL: "http://hooks.example.com/", Secret: secret},
		{URL: "https://hooks.example.com/", Secret: []byte("short")},
		{URL: "https://hooks.example.com/", Secret: secret, Channels: []notify.Channel{"fax"}},
		{URL: "hooks.example.com", Secret: secret},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	h := Sign(secret, now, body)
	if err := VerifySignature(secret, h, body, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	other := Sign([]byte("old-secret-0123456789"), now, body)
	rotated := other + "," + strings.SplitN(h, ",", 2)[1] // t=…,v1=old,v1=new
	if err := VerifySignature(secret, rotated, body, now, time.Minute); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if err := VerifySignature(secret, h+",v2=abc", body, now, time.Minute); err != nil {
		t.Fatalf("unknown scheme should be ignored: %v", err)
	}
	cases := map[string]struct {
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		"tampered body": {h, []byte(`{"id":"y"}`), now, ErrBadSignature},
		"wrong secret":  {other, body, now, ErrBadSignature},
		"too old":       {h, body, now.Add(2 * time.Minute), ErrStaleSignature},
		"from future":   {h, body, now.Add(-2 * time.Minute), ErrStaleSignature},
		"empty":         {"", body, now, ErrMalformedSignature},
		"no v1":         {"t=1772366400", body, now, ErrMalformedSignature},
		"no t":          {"v1=" + strings.Repeat("00", 32), body, now, ErrMalformedSignature},
		"two t":         {h + ",t=1", body, now, ErrMalformedSignature},
		"short v1":      {"t=1772366400,v1=abcd", body, now, ErrMalformedSignature},
		"negative t":    {"t=-5,v1=" + strings.Repeat("00", 32), body, now, ErrMalformedSignature},
		"garbage":       {"hello", body, now, ErrMalformedSignature},
		"huge t":        {"t=99999999999999999999,v1=" + strings.Repeat("00", 32), body, now, ErrMalformedSignature},
		"long header":   {h + strings.Repeat(",x=y", 300), body, now, ErrMalformedSignature},
	}
	for name, c := range cases {
		if err := VerifySignature(secret, c.header, c.body, c.now, time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if err := VerifySignature(secret, h, body, now, 0); err == nil {
		t.Error("zero tolerance accepted")
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("t=1772366400,v1="+strings.Repeat("ab", 32), []byte("{}"), int64(1772366400))
	f.Add(Sign(secret, now, []byte("x")), []byte("x"), now.Unix())
	f.Add("t=,v1=", []byte(nil), int64(0))
	f.Add(",,,=,t==", []byte("a"), int64(-1))
	f.Fuzz(func(t *testing.T, header string, body []byte, unix int64) {
		at := time.Unix(unix, 0)
		err := VerifySignature(secret, header, body, at, DefaultTolerance)
		if err == nil && !strings.Contains(header, "v1=") {
			t.Fatalf("accepted %q without v1", header)
		}
		if unix < 0 || unix > 1<<40 {
			return
		}
		if err := VerifySignature(secret, Sign(secret, at, body), body, at, DefaultTolerance); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}
