package notify

import (
	sls "github.com/secure-login-system/sls"
)

// Preferences are a client's message-center settings (SPEC §8): languages and
// the channels each kind of notice goes to.
type Preferences struct {
	PrimaryLang   string `json:"primary_lang" required:"true"`
	SecondaryLang string `json:"secondary_lang,omitempty"`
	// Channels maps a notice kind to its channels. A kind that is absent
	// uses DefaultChannels; a kind present with no channels is turned off,
	// which Validate allows only for kinds that are not SecurityCritical.
	// Transactional kinds (one-time codes) may not appear.
	Channels map[Kind][]Channel `json:"channels,omitempty"`
}

// Default returns the preferences of a new client: English, and every
// notice on its default channels.
func Default() Preferences {
	p := Preferences{PrimaryLang: LangEnglish, Channels: make(map[Kind][]Channel)}
	for _, k := range AllKinds {
		if !k.Transactional() {
			p.Channels[k] = DefaultChannels(k)
		}
	}
	return p
}

// DefaultChannels returns the channels a notice kind uses when the client
// has not chosen: email always, and SMS as well for the notices that mean an
// account takeover may be under way (SMS reaches a phone the attacker
// usually does not hold, and is read within minutes). Transactional kinds
// have no default: their flow picks the channel.
func DefaultChannels(k Kind) []Channel {
	switch k {
	case KindNewLogin, KindDeviceActivated, KindTempPasscodeIssued,
		KindPhoneNumberChanged, KindPushDenied, KindPushFlood, KindLoginRefusedIP, KindPasswordGuessing:
		return []Channel{ChannelEmail, ChannelSMS}
	}
	if k.Valid() && !k.Transactional() {
		return []Channel{ChannelEmail}
	}
	return nil
}

// Validate checks the preferences. Errors are *sls.Error with
// CodeInvalidArgument and a message fit to show to the client.
func (p Preferences) Validate() error {
	if _, ok := MatchLang(p.PrimaryLang); !ok {
		return sls.Errorf(sls.CodeInvalidArgument, "The primary language %q is not supported.", p.PrimaryLang)
	}
	if p.SecondaryLang != "" {
		if _, ok := MatchLang(p.SecondaryLang); !ok {
			return sls.Errorf(sls.CodeInvalidArgument, "The secondary language %q is not supported.", p.SecondaryLang)
		}
	}
	for k, chans := range p.Channels {
		if !k.Valid() {
			return sls.Errorf(sls.CodeInvalidArgument, "Unknown message kind %q.", k)
		}
		if k.Transactional() {
			return sls.Errorf(sls.CodeInvalidArgument, "Security codes are always sent where you asked for them; %q has no channel setting.", k)
		}
		if len(chans) == 0 && k.SecurityCritical() {
			return sls.Errorf(sls.CodeInvalidArgument, "Security notices (%s) cannot be turned off; choose at least one channel.", k)
		}
		seen := make(map[Channel]bool, len(chans))
		for _, c := range chans {
			switch {
			case !c.Valid():
				return sls.Errorf(sls.CodeInvalidArgument, "Unknown channel %q.", c)
			case c == ChannelVoice:
				// Calls read one-time codes; a notice by phone call at
				// night is a nuisance and an easy social-engineering lure.
				return sls.Errorf(sls.CodeInvalidArgument, "Notices cannot be delivered by voice call.")
			case seen[c]:
				return sls.Errorf(sls.CodeInvalidArgument, "Channel %q is listed twice for %s.", c, k)
			}
			seen[c] = true
		}
	}
	return nil
}

// ChannelsFor returns the channels for a notice kind: the client's choice,
// else DefaultChannels. For a SecurityCritical kind it never returns an
// empty list, even for preferences that skipped Validate. Transactional
// kinds return nil.
func (p Preferences) ChannelsFor(k Kind) []Channel {
	if k.Transactional() || !k.Valid() {
		return nil
	}
	if c, ok := p.Channels[k]; ok && (len(c) > 0 || !k.SecurityCritical()) {
		return append([]Channel(nil), c...)
	}
	return DefaultChannels(k)
}

// Lang returns the language to write kind in: the primary language if it is
// supported and has a text for kind, else the secondary under the same
// condition, else English. The result is a canonical tag (see MatchLang).
func (p Preferences) Lang(k Kind) string {
	for _, l := range []string{p.PrimaryLang, p.SecondaryLang} {
		if HasTemplate(k, l) {
			c, _ := MatchLang(l)
			return c
		}
	}
	return LangEnglish
}
