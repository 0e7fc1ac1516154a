package ibkey

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
)

func FuzzParseCode(f *testing.F) {
	c, _ := NewCode(bytes.NewReader(bytes.Repeat([]byte{0xA5}, 10)))
	for _, s := range []string{c.String(), c.Grouped(), "", "1", "----", "ÿÿÿ", "1OIL-oil0-0000-0000-0000", c.QRPayload()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCode(s)
		if err != nil {
			return
		}
		// Anything accepted is canonical and parses to itself.
		again, err := ParseCode(got.Grouped())
		if err != nil || again != got || len(got.String()) != codeLen {
			t.Fatalf("%q parsed to %q, which does not round-trip: %v", s, got, err)
		}
		if q, err := ParseQR(got.QRPayload()); err != nil || q != got {
			t.Fatalf("qr round trip of %q: %v", got, err)
		}
	})
}

func FuzzParseQR(f *testing.F) {
	c, _ := NewCode(bytes.NewReader(bytes.Repeat([]byte{0x3C}, 10)))
	for _, s := range []string{c.QRPayload(), QRPrefix, "SLSIBKEY:", "slsibkey:" + c.String(), "http://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := ParseQR(s); err == nil && got.IsZero() {
			t.Fatal("zero code accepted")
		}
	})
}

// FuzzApproval: whatever arrives as an approval body never panics the
// verifier and never verifies without the keys.
func FuzzApproval(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	key := bytes.Repeat([]byte{3}, 32)
	a := Approval{Version: 1, PushID: "psh_x", Tx: TxBinding("l", "psh_x"), DeviceID: "dev_x", Decision: DecisionApprove, Number: "12", Unlock: UnlockPIN}
	a.Sign(priv, key)
	good, _ := json.Marshal(a)
	f.Add(good)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"decision":"deny","sig":"AAAA"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var x Approval
		if json.Unmarshal(b, &x) != nil {
			return
		}
		err := x.Verify(pub, key)
		if err == nil && (x.PushID != a.PushID || x.Number != a.Number || x.Decision != a.Decision || x.Tx != a.Tx) {
			t.Fatalf("forged approval verified: %+v", x)
		}
	})
}

// FuzzCheckResponse: a typed response (any bytes) against any challenge
// never panics, and only the response the key computes is accepted.
func FuzzCheckResponse(f *testing.F) {
	key := bytes.Repeat([]byte{9}, OfflineKeySize)
	good, _ := Respond(key, "123456")
	for _, s := range [][2]string{{"123456", good}, {"123456", FormatResponse(good)}, {"123456", ""}, {"12345", good},
		{"", ""}, {"123456", "1234567x"}, {"１２３４５６", good}, {"123456", good + " "}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, challenge, response string) {
		if !CheckResponse(key, challenge, response) {
			return
		}
		want, err := Respond(key, challenge)
		if err != nil || strings.Join(strings.Fields(response), "") != want {
			t.Fatalf("challenge %q: response %q accepted, the key gives %q (%v)", challenge, response, want, err)
		}
	})
}

// FuzzVerifyReauth: a re-authentication with any signature, proof and
// fields never panics and never verifies without the instance's keys.
func FuzzVerifyReauth(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{5}, 64)))
	key := bytes.Repeat([]byte{4}, OfflineKeySize)
	sig, mac := SignReauth(priv, key, "ibi_a", "dev_a", "pin", "nonce")
	f.Add("ibi_a", "dev_a", "pin", "nonce", sig, mac)
	f.Add("ibi_a", "dev_a", "biometric", "nonce", sig, mac)
	f.Add("", "", "", "", []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, instance, device, unlock, nonce string, sig, mac []byte) {
		if VerifyReauth(pub, key, instance, device, unlock, nonce, sig, mac) != nil {
			return
		}
		wantSig, wantMAC := SignReauth(priv, key, instance, device, unlock, nonce)
		if !bytes.Equal(sig, wantSig) || !bytes.Equal(mac, wantMAC) {
			t.Fatalf("a signature the instance did not make verified for %q %q %q %q", instance, device, unlock, nonce)
		}
		if VerifyActivation(pub, instance, device, []byte(nonce), sig) == nil {
			t.Fatal("a re-authentication signature verified as an activation")
		}
	})
}
