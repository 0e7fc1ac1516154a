package twilio

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secure-login-system/sls/notify"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "secret-token"
	from  = "+15005550006"
)

type request struct {
	path string
	form map[string]string
}

// fakeTwilio answers like api.twilio.com: 201 with a resource on success,
// an error document otherwise. Some recipients trigger canned failures.
type fakeTwilio struct {
	mu   sync.Mutex
	reqs []request
	t    *testing.T
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fail := func(status, code int, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != sid || pass != token {
		fail(401, 20003, "Authenticate")
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		fail(405, 20004, "Method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(400, 20001, err.Error())
		return
	}
	req := request{path: r.URL.Path, form: map[string]string{}}
	for k, v := range r.PostForm {
		if len(v) != 1 {
			fail(400, 20001, "repeated parameter "+k)
			return
		}
		req.form[k] = v[0]
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	prefix := "/2010-04-01/Accounts/" + sid + "/"
	var sidPrefix string
	switch r.URL.Path {
	case prefix + "Messages.json":
		sidPrefix = "SM"
		if req.form["Body"] == "" || (req.form["From"] == "") == (req.form["MessagingServiceSid"] == "") {
			fail(400, 21602, "Message body is required / exactly one of From and MessagingServiceSid")
			return
		}
	case prefix + "Calls.json":
		sidPrefix = "CA"
		if req.form["From"] == "" || req.form["Twiml"] == "" {
			fail(400, 21205, "Url or Twiml is required")
			return
		}
	default:
		w.WriteHeader(404)
		w.Write([]byte(`{"code": 20404, "message": "The requested resource was not found", "status": 404}`))
		return
	}
	switch req.form["To"] {
	case "+12015550001":
		fail(400, 21211, "The 'To' number is not a valid phone number.")
	case "+12015550009":
		fail(400, 21614, "'To' number is not a valid mobile number")
	case "+12015550429":
		w.Header().Set("Retry-After", "3")
		fail(429, 20429, "Too Many Requests")
	case "+12015550500":
		fail(500, 20500, "Internal Server Error")
	case "+12015550503":
		w.WriteHeader(503)
		w.Write([]byte("<html>upstream unavailable</html>"))
	default:
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"sid": sidPrefix + "0123456789abcdef0123456789abcdef", "status": "queued", "to": req.form["To"]})
	}
}

func (f *fakeTwilio) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func setup(t *testing.T, mut func(*Config)) (*Client, *fakeTwilio) {
	t.Helper()
	fake := &fakeTwilio{t: t}
	srv := httptest.NewTLSServer(fake)
	t.Cleanup(srv.Close)
	cfg := Config{BaseURL: srv.URL, AccountSID: sid, AuthToken: token, From: from, HTTPClient: srv.Client(),
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

func TestSMS(t *testing.T) {
	c, fake := setup(t, nil)
	m, err := notify.NewMessage("otp-1", notify.ChannelSMS, "+36201234567", notify.KindLoginCodeSMS, "hu", map[string]string{"Code": "481516"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(fake.requests()) != 1 {
		t.Fatalf("%d requests", len(fake.requests()))
	}
	r := fake.requests()[0]
	want := map[string]string{"To": "+36201234567", "From": from, "Body": m.Body}
	if r.path != "/2010-04-01/Accounts/"+sid+"/Messages.json" || fmt.Sprint(r.form) != fmt.Sprint(want) {
		t.Fatalf("request %+v", r)
	}
}

func TestSMSWithMessagingService(t *testing.T) {
	svc := "MG0123456789abcdef0123456789abcdef"
	c, fake := setup(t, func(c *Config) { c.MessagingServiceSID = svc })
	m := notify.Message{ID: "1", Channel: notify.ChannelSMS, To: "+85291234567", Body: "SLS: 123456"}
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	f := fake.requests()[0].form
	if f["MessagingServiceSid"] != svc || f["From"] != "" {
		t.Fatalf("form %v", f)
	}
}

func TestVoice(t *testing.T) {
	c, fake := setup(t, func(c *Config) {
		c.Voices = map[string]Voice{"hu-HU": {Name: "Google.hu-HU-Standard-A", Language: "hu-HU"}}
	})
	for _, lang := range []string{"en", "es", "zh-CN", "hu"} {
		m, err := notify.NewMessage("call-"+lang, notify.ChannelVoice, "+12125550123", notify.KindLoginCodeVoice, lang, map[string]string{"Code": "481516"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	wantLang := []string{"en-US", "es-ES", "cmn-CN", "hu-HU"}
	for i, r := range fake.requests() {
		if !strings.HasSuffix(r.path, "/Calls.json") || r.form["To"] != "+12125550123" || r.form["From"] != from {
			t.Fatalf("request %+v", r)
		}
		var doc struct {
			XMLName xml.Name `xml:"Response"`
			Says    []struct {
				Voice    string `xml:"voice,attr"`
				Language string `xml:"language,attr"`
				Text     string `xml:",chardata"`
			} `xml:"Say"`
			Pauses []struct{} `xml:"Pause"`
		}
		if err := xml.Unmarshal([]byte(r.form["Twiml"]), &doc); err != nil {
			t.Fatalf("TwiML does not parse: %v\n%s", err, r.form["Twiml"])
		}
		if len(doc.Says) != 2 || len(doc.Pauses) != 1 || doc.Says[0] != doc.Says[1] {
			t.Fatalf("want the text said twice: %s", r.form["Twiml"])
		}
		if doc.Says[0].Language != wantLang[i] || !strings.Contains(doc.Says[0].Text, "4, 8, 1, 5, 1, 6") {
			t.Errorf("say %+v", doc.Says[0])
		}
		if (wantLang[i] == "hu-HU") != (doc.Says[0].Voice != "") {
			t.Errorf("voice %q for %s", doc.Says[0].Voice, wantLang[i])
		}
	}
}

func TestTwiMLEscapingAndDigits(t *testing.T) {
	got := sayTwice(`Code 4815 <b>&"x"</b>`, Voice{Language: `en-US"><Hangup/>`})
	var doc struct {
		Says []struct {
			Language string `xml:"language,attr"`
			Text     string `xml:",chardata"`
		} `xml:"Say"`
		Hangup []struct{} `xml:"Hangup"`
	}
	if err := xml.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Hangup) != 0 || len(doc.Says) != 2 || doc.Says[0].Text != `Code 4, 8, 1, 5 <b>&"x"</b>` || doc.Says[0].Language != `en-US"><Hangup/>` {
		t.Fatalf("escaping: %s → %+v", got, doc)
	}
	if separateDigits("1, 2, 3") != "1, 2, 3" {
		t.Error("already separated digits changed")
	}
}

func TestErrors(t *testing.T) {
	c, _ := setup(t, nil)
	cases := []struct {
		to        string
		permanent bool
		code      int
		retry     bool
	}{
		{"+12015550001", true, 21211, false},
		{"+12015550009", true, 21614, false},
		{"+12015550429", false, 20429, true},
		{"+12015550500", false, 20500, false},
		{"+12015550503", false, 0, false},
	}
	for _, tc := range cases {
		err := c.Send(context.Background(), notify.Message{ID: "x", Channel: notify.ChannelSMS, To: tc.to, Body: "b"})
		if err == nil || notify.IsPermanent(err) != tc.permanent {
			t.Errorf("%s: %v (permanent=%v)", tc.to, err, notify.IsPermanent(err))
			continue
		}
		var api *APIError
		if errors.As(err, &api) != (tc.code != 0) || tc.code != 0 && api.Code != tc.code {
			t.Errorf("%s: APIError %+v", tc.to, api)
		}
		if _, ok := notify.RetryAfter(err); ok != tc.retry {
			t.Errorf("%s: RetryAfter %v", tc.to, ok)
		}
	}
	bad, _ := setup(t, func(c *Config) { c.AuthToken = "wrong" })
	err := bad.Send(context.Background(), notify.Message{ID: "x", Channel: notify.ChannelSMS, To: "+36201234567", Body: "b"})
	var api *APIError
	if !notify.IsPermanent(err) || !errors.As(err, &api) || api.Code != 20003 || api.Status != 401 {
		t.Errorf("auth failure: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	c, fake := setup(t, func(c *Config) { c.From = ""; c.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef" })
	for _, m := range []notify.Message{
		{ID: "1", Channel: notify.ChannelEmail, To: "a@example.com", Body: "b"},
		{ID: "2", Channel: notify.ChannelSMS, To: "0620123456", Body: "b"},
		{ID: "3", Channel: notify.ChannelVoice, To: "+36201234567", Body: "b"}, // no From for calls
		{ID: "4", Channel: notify.ChannelSMS, To: "+36201234567", Body: ""},
	} {
		if err := c.Send(context.Background(), m); !notify.IsPermanent(err) {
			t.Errorf("%s: %v", m.ID, err)
		}
	}
	c2, _ := setup(t, nil)
	long := notify.Message{ID: "5", Channel: notify.ChannelVoice, To: "+36201234567", Body: strings.Repeat("a ", 1500)}
	if err := c2.Send(context.Background(), long); !notify.IsPermanent(err) {
		t.Errorf("over-long TwiML: %v", err)
	}
	if len(fake.requests()) != 0 {
		t.Fatal("refused message reached Twilio")
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := New(Config{BaseURL: srv.URL, AccountSID: sid, AuthToken: token, From: from, HTTPClient: srv.Client(), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), notify.Message{ID: "1", Channel: notify.ChannelSMS, To: "+36201234567", Body: "b"})
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("timeout: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	ok := Config{AccountSID: sid, AuthToken: token, From: from}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"http base":  func(c *Config) { c.BaseURL = "http://api.example.com" },
		"bad sid":    func(c *Config) { c.AccountSID = "AC123" },
		"no token":   func(c *Config) { c.AuthToken = "" },
		"no sender":  func(c *Config) { c.From = "" },
		"bad from":   func(c *Config) { c.From = "5005550006" },
		"bad mg":     func(c *Config) { c.MessagingServiceSID = "MGxyz" },
		"bad voices": func(c *Config) { c.Voices = map[string]Voice{"de": {}} },
	} {
		c := ok
		mut(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
