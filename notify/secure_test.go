package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// The body repeats the summary's words on purpose: the test must find the
// body's own words, not the ones it shares with the summary.
const (
	testSummary = "Your March statement is ready"
	testBody    = "Your March statement is ready. Account U1234567 NAV 1,234,567.89 USD; wire ref ZQXJ-SECRET-7731."
)

var bodyOnly = []string{"U1234567", "1,234,567.89", "ZQXJ-SECRET-7731", "wire ref", testBody}

func TestSecureMessageNoticeNeverCarriesBody(t *testing.T) {
	msg := NewSecureMessage("sm-77", testSummary, testBody)
	if msg.BodyForMessageCenter() != testBody {
		t.Fatal("BodyForMessageCenter")
	}
	for _, lang := range append(Languages(), "hu-HU", "zh-CN", "es-ES", "xx") {
		for _, ch := range []Channel{ChannelEmail, ChannelSMS, ChannelPush} {
			m, err := SecureMessageNotice(msg, ch, lang)
			if err != nil {
				t.Fatalf("%s/%s: %v", lang, ch, err)
			}
			if !strings.Contains(m.Body, testSummary) {
				t.Errorf("%s/%s: summary missing: %q", lang, ch, m.Body)
			}
			// Every string field of Message, found by reflection so that a
			// field added later is checked too.
			v := reflect.ValueOf(m)
			for i := 0; i < v.NumField(); i++ {
				if v.Field(i).Kind() != reflect.String {
					continue
				}
				s := v.Field(i).String()
				for _, secret := range bodyOnly {
					if strings.Contains(s, secret) {
						t.Errorf("%s/%s: field %s carries body text %q", lang, ch, v.Type().Field(i).Name, secret)
					}
				}
			}
			j, _ := json.Marshal(m)
			for _, secret := range bodyOnly {
				if bytes.Contains(j, []byte(secret)) {
					t.Errorf("%s/%s: JSON carries body text %q", lang, ch, secret)
				}
			}
			if m.Kind != KindSecureMessageSummary || m.Channel != ch || m.To != "" || m.ID != "secmsg:sm-77:"+string(ch) {
				t.Errorf("%s/%s: %+v", lang, ch, m)
			}
		}
	}
	if _, err := SecureMessageNotice(msg, ChannelVoice, "en"); err == nil {
		t.Error("voice notice allowed")
	}
	if _, err := SecureMessageNotice(NewSecureMessage("", "s", "b"), ChannelEmail, "en"); err == nil {
		t.Error("empty id allowed")
	}
	if _, err := SecureMessageNotice(NewSecureMessage("a b", "s", "b"), ChannelEmail, "en"); err == nil {
		t.Error("id with a space allowed")
	}
	if _, err := SecureMessageNotice(NewSecureMessage("x", " ", "b"), ChannelEmail, "en"); err == nil {
		t.Error("empty summary allowed")
	}
}

func TestSecureMessageDoesNotPrintBody(t *testing.T) {
	msg := NewSecureMessage("sm-1", testSummary, testBody)
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
		outs = append(outs, fmt.Sprintf(f, msg), fmt.Sprintf(f, &msg), fmt.Sprintf(f, []SecureMessage{msg}))
	}
	type holder struct {
		Public  SecureMessage
		private SecureMessage // fmt cannot call Format here
	}
	h := holder{msg, msg}
	outs = append(outs, fmt.Sprint(msg), fmt.Sprintln(struct{ M SecureMessage }{msg}),
		fmt.Sprintf("%v", h), fmt.Sprintf("%+v", h), fmt.Sprintf("%#v", h), fmt.Sprintf("%v", &h))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "msg", msg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "msg", msg)
	outs = append(outs, buf.String())
	j, _ := json.Marshal(msg)
	outs = append(outs, string(j))
	for _, o := range outs {
		for _, secret := range []string{"ZQXJ", "U1234567"} {
			if strings.Contains(o, secret) || strings.Contains(o, fmt.Sprintf("%x", secret)) || strings.Contains(o, fmt.Sprintf("% x", secret)) {
				t.Errorf("body leaked: %s", o)
			}
		}
	}
	if !strings.Contains(outs[0], testSummary) {
		t.Errorf("String should show the summary: %s", outs[0])
	}
}

func TestSummaryTemplateHasNoBodyField(t *testing.T) {
	if f := KindSecureMessageSummary.Fields(); len(f) != 1 || f[0] != "Summary" {
		t.Fatalf("fields = %v", f)
	}
	for _, key := range []string{"Body", "body", "Text", "Message"} {
		_, _, err := Render(KindSecureMessageSummary, "en", map[string]string{"Summary": "s", key: testBody})
		if err == nil {
			t.Errorf("Render accepted extra field %q", key)
		}
	}
	// The templates themselves name no other field: rendering with only the
	// summary must succeed in every language (missingkey=error would fail
	// on a reference to .Body).
	for _, lang := range Languages() {
		if _, _, err := Render(KindSecureMessageSummary, lang, map[string]string{"Summary": "s"}); err != nil {
			t.Errorf("%s: %v", lang, err)
		}
	}
	// SecureMessage exposes its body through one method and no field.
	typ := reflect.TypeOf(SecureMessage{})
	for i := 0; i < typ.NumField(); i++ {
		if f := typ.Field(i); f.IsExported() && f.Name != "ID" && f.Name != "Summary" {
			t.Errorf("unexpected exported field %s", f.Name)
		}
	}
}

func TestSummaryIsShortened(t *testing.T) {
	long := strings.Repeat("word ", 100)
	m, err := SecureMessageNotice(NewSecureMessage("id", long, "b"), ChannelSMS, "en")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := SMSSegments(m.Body); n > 2 {
		t.Errorf("%d segments", n)
	}
}
