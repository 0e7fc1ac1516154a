package notify

import (
	"errors"
	"testing"

	sls "github.com/secure-login-system/sls"
)

func TestDefaultPreferences(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, k := range AllKinds {
		chans := p.ChannelsFor(k)
		if k.Transactional() {
			if chans != nil || DefaultChannels(k) != nil {
				t.Errorf("%s: transactional kind has channels", k)
			}
			continue
		}
		if len(chans) == 0 {
			t.Errorf("%s: no default channel", k)
		}
	}
	if p.Lang(KindNewLogin) != LangEnglish {
		t.Error("default language")
	}
}

func TestPreferencesValidate(t *testing.T) {
	ok := []Preferences{
		{PrimaryLang: "hu-HU"},
		{PrimaryLang: "zh-CN", SecondaryLang: "en"},
		{PrimaryLang: "es", Channels: map[Kind][]Channel{KindSecureMessageSummary: {}}},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{KindNewLogin: {ChannelPush}, KindDeviceShipped: {ChannelEmail, ChannelSMS}}},
	}
	for _, p := range ok {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	bad := []Preferences{
		{},
		{PrimaryLang: "de"},
		{PrimaryLang: "zh-TW"},
		{PrimaryLang: "en", SecondaryLang: "fr"},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{"weekly_digest": {ChannelEmail}}},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{KindNewLogin: {}}},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{KindPhoneNumberChanged: nil}},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{KindNewLogin: {"fax"}}},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{KindNewLogin: {ChannelVoice}}},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{KindNewLogin: {ChannelSMS, ChannelSMS}}},
		{PrimaryLang: "en", Channels: map[Kind][]Channel{KindLoginCodeSMS: {ChannelEmail}}},
	}
	for _, p := range bad {
		err := p.Validate()
		if err == nil {
			t.Errorf("%+v: accepted", p)
			continue
		}
		var e *sls.Error
		if !errors.As(err, &e) || e.Code != sls.CodeInvalidArgument {
			t.Errorf("%+v: error %v is not invalid_argument", p, err)
		}
	}
}

func TestSecurityCriticalCannotBeSilenced(t *testing.T) {
	for _, k := range AllKinds {
		p := Preferences{PrimaryLang: "en", Channels: map[Kind][]Channel{k: {}}}
		err := p.Validate()
		switch {
		case k.Transactional():
			if err == nil {
				t.Errorf("%s: preference accepted for a transactional kind", k)
			}
		case k.SecurityCritical():
			if err == nil {
				t.Errorf("%s: security notice turned off", k)
			}
			// Even unvalidated preferences do not silence it.
			if len(p.ChannelsFor(k)) == 0 {
				t.Errorf("%s: ChannelsFor returned nothing", k)
			}
		default:
			if err != nil || len(p.ChannelsFor(k)) != 0 {
				t.Errorf("%s: could not be turned off: %v", k, err)
			}
		}
	}
	for _, k := range []Kind{KindNewLogin, KindDeviceActivated, KindTempPasscodeIssued, KindPhoneNumberChanged,
		KindPushDenied, KindPushFlood, KindAutoActivationComing, KindDeviceAutoActivated, KindDeviceShipped, KindDeviceDelivered} {
		if !k.SecurityCritical() {
			t.Errorf("%s must be security-critical", k)
		}
	}
}

func TestPreferencesLang(t *testing.T) {
	cases := []struct {
		primary, secondary, want string
	}{
		{"hu-HU", "", LangHungarian},
		{"zh-CN", "es", LangChinese},
		{"de", "es-ES", LangSpanish},
		{"zh-TW", "hu", LangHungarian},
		{"de", "fr", LangEnglish},
		{"", "", LangEnglish},
	}
	for _, c := range cases {
		p := Preferences{PrimaryLang: c.primary, SecondaryLang: c.secondary}
		if got := p.Lang(KindNewLogin); got != c.want {
			t.Errorf("Lang(%q,%q) = %q, want %q", c.primary, c.secondary, got, c.want)
		}
	}
}
