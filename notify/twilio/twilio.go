// Package twilio sends SMS and voice messages through the Twilio REST API
// (2010-04-01), the most widely used programmable SMS and voice provider.
//
// SMS:   POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json
//
//	To, From or MessagingServiceSid, Body
//
// Voice: POST {base}/2010-04-01/Accounts/{AccountSid}/Calls.json
//
//	To, From, Twiml = <Response><Say>…</Say><Pause/><Say>…</Say></Response>
//
// Requests are form-encoded with HTTP basic auth AccountSid:AuthToken.
// The base URL is configurable so that tests (and compatible providers or
// proxies) can stand in for api.twilio.com.
//
// Twilio's create endpoints have no idempotency key: when an answer is lost
// (timeout after the request left) a retry may deliver the SMS twice. That
// is the lesser evil for a login code, and the outbox keeps retries rare.
package twilio

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/notify/internal/httpx"
)

// DefaultBaseURL is Twilio's API host.
const DefaultBaseURL = "https://api.twilio.com"

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// maxTwiML is Twilio's limit on the Twiml parameter (4,000 characters).
const maxTwiML = 4000

// Voice selects the text-to-speech voice for one language.
type Voice struct {
	Name     string // voice attribute, e.g. "Polly.Joanna" or "Google.hu-HU-Standard-A"; empty for Twilio's default
	Language string // language attribute, e.g. "en-US"
}

// defaultVoices gives the Say language for each supported language. The
// voice is left to Twilio's default; an operator who needs a voice that
// speaks Hungarian or Mandarin sets Config.Voices.
var defaultVoices = map[string]Voice{
	notify.LangEnglish:   {Language: "en-US"},
	notify.LangSpanish:   {Language: "es-ES"},
	notify.LangChinese:   {Language: "cmn-CN"},
	notify.LangHungarian: {Language: "hu-HU"},
}

// Config configures a Client.
type Config struct {
	BaseURL    string // default DefaultBaseURL; https, or http to loopback
	AccountSID string // "AC" + 32 hex digits
	AuthToken  string
	// From is the sender number (E.164). Calls always need it; SMS use
	// MessagingServiceSID instead when that is set.
	From                string
	MessagingServiceSID string // "MG" + 32 hex digits, optional
	// Voices overrides the default per canonical language (notify.MatchLang).
	// By default only the Say language is set (en-US, es-ES, cmn-CN, hu-HU)
	// and Twilio picks its default voice for it.
	Voices     map[string]Voice
	Timeout    time.Duration
	HTTPClient *http.Client
	Now        func() time.Time // for Retry-After dates; default time.Now
}

// Client is a notify.Sender for ChannelSMS and ChannelVoice.
type Client struct {
	base, sid, token, from, msgSvc string
	voices                         map[string]Voice
	client                         *http.Client
	now                            func() time.Time
}

var _ notify.Sender = (*Client)(nil)

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := httpx.CheckURL(base)
	if err != nil {
		return nil, fmt.Errorf("twilio: base url: %w", err)
	}
	if !validSID(cfg.AccountSID, "AC") {
		return nil, fmt.Errorf("twilio: account sid must be AC followed by 32 hex digits")
	}
	if cfg.AuthToken == "" {
		return nil, fmt.Errorf("twilio: auth token missing")
	}
	if cfg.MessagingServiceSID != "" && !validSID(cfg.MessagingServiceSID, "MG") {
		return nil, fmt.Errorf("twilio: messaging service sid must be MG followed by 32 hex digits")
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		return nil, fmt.Errorf("twilio: need From or MessagingServiceSID")
	}
	if cfg.From != "" && !notify.ValidE164(cfg.From) {
		return nil, fmt.Errorf("twilio: from %q is not an E.164 number", cfg.From)
	}
	c := &Client{
		base:   strings.TrimRight(u.String(), "/"),
		sid:    cfg.AccountSID,
		token:  cfg.AuthToken,
		from:   cfg.From,
		msgSvc: cfg.MessagingServiceSID,
		voices: make(map[string]Voice),
		now:    cfg.Now,
	}
	for l, v := range defaultVoices {
		c.voices[l] = v
	}
	for l, v := range cfg.Voices {
		cl, ok := notify.MatchLang(l)
		if !ok {
			return nil, fmt.Errorf("twilio: voices: unsupported language %q", l)
		}
		c.voices[cl] = v
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c.client = httpx.Client(cfg.HTTPClient, timeout)
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func validSID(s, prefix string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, r := range s[2:] {
		if !unicode.Is(unicode.ASCII_Hex_Digit, r) {
			return false
		}
	}
	return true
}

// APIError is Twilio's error answer. Code is Twilio's error number (for
// example 21211 invalid To, 21610 recipient replied STOP, 21408 region not
// enabled, 20429 too many requests); see https://www.twilio.com/docs/errors.
type APIError struct {
	Status   int    `json:"status"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("twilio: status %d: error %d: %s", e.Status, e.Code, e.Message)
}

// Send sends an SMS or places a call. 4xx answers are permanent (the
// number, the content or the account setup is wrong) except 408, 429 and
// Twilio error 20429; 5xx and transport failures are temporary.
func (c *Client) Send(ctx context.Context, m notify.Message) error {
	if err := m.Validate(); err != nil {
		return notify.Permanent(fmt.Errorf("twilio: %w", err))
	}
	form := url.Values{"To": {m.To}}
	var resource string
	switch m.Channel {
	case notify.ChannelSMS:
		resource = "Messages.json"
		if c.msgSvc != "" {
			form.Set("MessagingServiceSid", c.msgSvc)
		} else {
			form.Set("From", c.from)
		}
		form.Set("Body", m.Body)
	case notify.ChannelVoice:
		if c.from == "" {
			return notify.Permanent(fmt.Errorf("twilio: voice needs a From number"))
		}
		resource = "Calls.json"
		l, _ := notify.MatchLang(m.Lang)
		if l == "" {
			l = notify.LangEnglish
		}
		twiml := sayTwice(m.Body, c.voices[l])
		if len(twiml) > maxTwiML {
			return notify.Permanent(fmt.Errorf("twilio: call text too long (%d > %d)", len(twiml), maxTwiML))
		}
		form.Set("From", c.from)
		form.Set("Twiml", twiml)
	default:
		return notify.Permanent(fmt.Errorf("twilio: %s: %w", m.Channel, notify.ErrUnsupportedChannel))
	}
	endpoint := c.base + "/2010-04-01/Accounts/" + url.PathEscape(c.sid) + "/" + resource
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return notify.Permanent(fmt.Errorf("twilio: request: %w", err))
	}
	req.SetBasicAuth(c.sid, c.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: %s: %w", m.Channel, err)
	}
	defer resp.Body.Close()
	body := httpx.ReadBody(resp.Body, 64<<10)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	detail := strings.TrimSpace(string(body))
	var apiErr APIError
	if json.Unmarshal(body, &apiErr) == nil && apiErr.Code != 0 {
		apiErr.Status = resp.StatusCode
		detail = fmt.Sprintf("error %d: %s", apiErr.Code, apiErr.Message)
		if apiErr.Code == 20429 { // "Too Many Requests", whatever the status
			return notify.WithRetryAfter(fmt.Errorf("twilio: %s: %w", m.Channel, &apiErr),
				httpx.RetryAfter(resp.Header.Get("Retry-After"), c.now()))
		}
	}
	err = httpx.StatusError("twilio: "+string(m.Channel), resp, detail, c.now())
	if apiErr.Code != 0 {
		// Keep the classification of StatusError and expose the API error
		// to errors.As.
		return &classified{err: err, api: &apiErr}
	}
	return err
}

// classified carries both the status classification (permanent or not,
// Retry-After) and Twilio's APIError.
type classified struct {
	err error
	api *APIError
}

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() []error { return []error{e.err, e.api} }

// sayTwice builds the TwiML that reads text, pauses, and reads it again, so
// that a code missed the first time is heard the second. Runs of digits are
// separated so that "481516" is read digit by digit, not as a number, even
// when the text did not come from the login_code_voice template.
func sayTwice(text string, v Voice) string {
	var attrs strings.Builder
	if v.Name != "" {
		attrs.WriteString(` voice="` + escape(v.Name) + `"`)
	}
	if v.Language != "" {
		attrs.WriteString(` language="` + escape(v.Language) + `"`)
	}
	say := "<Say" + attrs.String() + ">" + escape(separateDigits(text)) + "</Say>"
	return `<?xml version="1.0" encoding="UTF-8"?><Response>` + say + `<Pause length="1"/>` + say + `</Response>`
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // never fails on a strings.Builder
	return b.String()
}

// separateDigits puts ", " between adjacent ASCII digits.
func separateDigits(s string) string {
	var b strings.Builder
	prevDigit := false
	for _, r := range s {
		d := r >= '0' && r <= '9'
		if d && prevDigit {
			b.WriteString(", ")
		}
		b.WriteRune(r)
		prevDigit = d
	}
	return b.String()
}
