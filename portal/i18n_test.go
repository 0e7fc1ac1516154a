package portal

import (
	"io/fs"
	"regexp"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/policy"
)

// TestTranslationsComplete checks that every language has every English
// key with the same formatting verbs, and no key English lacks.
func TestTranslationsComplete(t *testing.T) {
	for lang, tr := range texts {
		for k, en := range textsEN {
			s, ok := tr[k]
			if !ok {
				t.Errorf("%s: missing %q", lang, k)
				continue
			}
			if a, b := Verbs(en), Verbs(s); a != b {
				t.Errorf("%s: %q has verbs %v, English %v", lang, k, b, a)
			}
		}
		for k := range tr {
			if _, ok := textsEN[k]; !ok {
				t.Errorf("%s: %q is not an English key", lang, k)
			}
		}
	}
}

var templateKeyRE = regexp.MustCompile(`\.TH? "([a-z_.0-9]+)"`)

// TestKeysUsedExist checks the keys the templates name, and the keys built
// from values (device kinds, states, notice kinds, channels…).
func TestKeysUsedExist(t *testing.T) {
	files, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
			if _, ok := textsEN[m[1]]; !ok {
				t.Errorf("%s uses unknown key %q", f, m[1])
			}
		}
	}
	var keys []string
	for _, k := range sls.AllKinds {
		keys = append(keys, "device."+string(k))
	}
	for _, s := range []sls.DeviceState{sls.StatePending, sls.StateActive, sls.StateSuspended, sls.StateRevoked, sls.StateExpired} {
		keys = append(keys, "state."+string(s))
	}
	for _, k := range notify.AllKinds {
		if !k.Transactional() {
			keys = append(keys, "kind."+string(k))
		}
	}
	for _, c := range noticeChannels {
		keys = append(keys, "channel."+string(c))
	}
	for _, p := range []sls.Platform{sls.PlatformPortal, sls.PlatformTrading} {
		keys = append(keys, "platform."+string(p))
	}
	for _, s := range []string{sls.PushExpired, sls.PushRejected, sls.PushSuperseded, sls.PushCancelled, sls.PushUsed, sls.PushDenied} {
		keys = append(keys, "ibkey.push_"+s)
	}
	for _, c := range []sls.Code{sls.CodeInvalidCredentials, sls.CodeBadResponse, sls.CodeLocked, sls.CodeLoginExpired, sls.CodeLoginCompleted,
		sls.CodeTooManyAttempts, sls.CodeUnauthenticated, sls.CodeIPNotAllowed} {
		keys = append(keys, "err."+string(c))
	}
	for _, n := range []string{"logged_out", "session_ended", "card_only", "card_requested", "card_activated", "code_sent", "verified",
		"prefs_saved", "resent_sms", "resent_voice", "opted_out", "opted_in", "ip_saved", "dscplus_active", "destroyed"} {
		keys = append(keys, "notice."+n)
	}
	for _, st := range []policy.State{policy.StateOrdered, policy.StateShipped, policy.StateDelivered, policy.StateActive, policy.StateDamaged,
		policy.StateReturnSent, policy.StateReturned, policy.StateLost, policy.StateStolen, policy.StateCancelled, policy.StateClosedNotReturned} {
		keys = append(keys, "order.state."+string(st))
	}
	for _, r := range (orderForm{}).Reasons() {
		keys = append(keys, "order.reason."+r)
	}
	for _, r := range returnReasons {
		keys = append(keys, "returns.reason."+r)
	}
	keys = append(keys, "withdraw.unlimited", "sharing.cond.identity_mismatch", "notice.crypto_granted")
	for _, r := range cryptoRules {
		keys = append(keys, "crypto.rule."+r)
	}
	pg := cryptoPage{Sides: []string{"buy", "sell"}, Kinds: []string{"market", "limit"}, TimesInForce: []string{"ioc", "minutes", "day", "gtc"}}
	for _, k := range [][]string{{"status", "none", "granted", "refused"}, append([]string{"side"}, pg.Sides...),
		append([]string{"kind"}, pg.Kinds...), append([]string{"tif"}, pg.TimesInForce...)} {
		for _, v := range k[1:] {
			keys = append(keys, "crypto."+k[0]+"."+v)
		}
	}
	for _, k := range keys {
		if _, ok := textsEN[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
}
