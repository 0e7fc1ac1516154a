package ibkey

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
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
