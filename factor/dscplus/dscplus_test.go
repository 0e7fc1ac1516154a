package dscplus

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/secure-login-system/sls/ocra"
	"github.com/secure-login-system/sls/seal"
)

func TestIssueAndRespond(t *testing.T) {
	s, _ := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	d, card, err := Issue(s, nil, "usr_1", "DSC-1", "4821", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(d.Secret, []byte("4821")) {
		t.Fatal("PIN visible in the sealed secret")
	}
	raw, _ := json.Marshal(card)
	parsed, key, err := ParseCardFile(raw)
	if err != nil || parsed.Serial != "DSC-1" {
		t.Fatalf("card file: %v", err)
	}
	if bytes.Contains(raw, []byte("4821")) {
		t.Fatal("the card file holds the PIN")
	}
	r1, err := Respond(key, "4821", "123456")
	if err != nil || len(r1) != 8 {
		t.Fatalf("response %q: %v", r1, err)
	}
	// The response is RFC 6287 OCRA of the suite, with the PIN's hash.
	ph, _ := Suite.HashPIN("4821")
	want, _ := Suite.Compute(key, ocra.Input{Question: "123456", PINHash: ph})
	if r1 != want {
		t.Fatalf("response %s, OCRA gives %s", r1, want)
	}
	if r2, _ := Respond(key, "4822", "123456"); r2 == r1 {
		t.Fatal("another PIN gives the same response")
	}
	for _, pin := range []string{"", "123", "12345", "12a4", "١٢٣٤"} {
		if ValidPIN(pin) {
			t.Errorf("PIN %q accepted", pin)
		}
	}
}

func TestParseCardFileRejects(t *testing.T) {
	good := CardFile{Format: CardFormat, Serial: "X", Suite: Suite.String(), Key: hex.EncodeToString(make([]byte, 32))}
	for name, mutate := range map[string]func(c map[string]any){
		"format": func(c map[string]any) { c["format"] = "other" },
		"suite":  func(c map[string]any) { c["suite"] = "OCRA-1:HOTP-SHA1-6:QN08" },
		"key":    func(c map[string]any) { c["key"] = "abcd" },
		"hex":    func(c map[string]any) { c["key"] = "zz" },
		"extra":  func(c map[string]any) { c["pin"] = "1234" },
	} {
		raw, _ := json.Marshal(good)
		var m map[string]any
		json.Unmarshal(raw, &m)
		mutate(m)
		raw, _ = json.Marshal(m)
		if _, _, err := ParseCardFile(raw); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseCardFile(f *testing.F) {
	raw, _ := json.Marshal(CardFile{Format: CardFormat, Serial: "X", Suite: Suite.String(), Key: hex.EncodeToString(make([]byte, 32))})
	f.Add(raw)
	f.Add([]byte(`{"format":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, key, err := ParseCardFile(b); err == nil && len(key) != 32 {
			t.Fatalf("accepted a key of %d bytes", len(key))
		}
	})
}
