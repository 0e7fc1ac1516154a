package ibkey

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/secure-login-system/sls/ocra"
)

func TestCodeRoundTrip(t *testing.T) {
	for i := 0; i < 200; i++ {
		c, err := NewCode(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.String()) != 20 || c.String()[0] != '1' {
			t.Fatalf("code %q", c)
		}
		g := c.Grouped()
		if len(g) != 24 || strings.Count(g, "-") != 4 {
			t.Fatalf("grouped %q", g)
		}
		for _, typed := range []string{c.String(), g, strings.ToLower(g), strings.ReplaceAll(g, "-", " "), "  " + g + "\t"} {
			got, err := ParseCode(typed)
			if err != nil || got != c {
				t.Fatalf("parse %q: %v %v", typed, got, err)
			}
		}
		got, err := ParseQR(c.QRPayload())
		if err != nil || got != c {
			t.Fatalf("qr %q: %v", c.QRPayload(), err)
		}
	}
}

func TestCodeLookalikes(t *testing.T) {
	c, _ := NewCode(bytes.NewReader(make([]byte, 10))) // secret all zeros: "1" + 16 x "0" + check
	typed := strings.ReplaceAll(c.String()[:17], "0", "O") + c.String()[17:]
	typed = "l" + typed[1:] // l for 1
	if got, err := ParseCode(typed); err != nil || got != c {
		t.Fatalf("lookalikes %q: %v", typed, err)
	}
}

// Every single-character substitution and every transposition of a code
// is caught by the checksum, for certain (Reed-Solomon, distance 4).
func TestCodeTyposCaught(t *testing.T) {
	missed, tried := 0, 0
	for n := 0; n < 30; n++ {
		c, _ := NewCode(nil)
		s := c.String()
		for i := 1; i < len(s); i++ {
			for _, r := range codeAlphabet {
				if byte(r) == s[i] {
					continue
				}
				tried++
				if _, err := ParseCode(s[:i] + string(r) + s[i+1:]); err == nil {
					missed++
				}
			}
			if i+1 < len(s) && s[i] != s[i+1] {
				tried++
				if _, err := ParseCode(s[:i] + string(s[i+1]) + string(s[i]) + s[i+2:]); err == nil {
					missed++
				}
			}
		}
	}
	if missed > 0 {
		t.Fatalf("%d of %d typos accepted", missed, tried)
	}
}

func TestCodeGarbage(t *testing.T) {
	good, _ := NewCode(nil)
	for _, s := range []string{"", "1", "hello", strings.Repeat("1", 200), good.String()[:19], good.String() + "0",
		"2" + good.String()[1:], good.String()[:5] + "U" + good.String()[6:], "1234-5678-9ABC-DEFG-HJKé"} {
		if _, err := ParseCode(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCode(%q) = %v, want ErrMalformed", s, err)
		}
	}
	if _, err := ParseQR(good.String()); !errors.Is(err, ErrMalformed) {
		t.Errorf("QR without prefix accepted")
	}
	if _, err := ParseCode("2" + good.String()[1:]); err == nil || !strings.Contains(err.Error(), "version") && !errors.Is(err, ErrChecksum) {
		t.Errorf("version: %v", err)
	}
}

func TestAgreement(t *testing.T) {
	app, _ := NewDHKey(nil)
	srv, _ := NewDHKey(nil)
	tr := Transcript{Binding: "b", InstanceID: "ibi_1", UserID: "usr_1", DeviceID: "dev_1",
		AppDH: app.PublicKey().Bytes(), ServerDH: srv.PublicKey().Bytes()}
	k1, c1, err := Agree(srv, app.PublicKey().Bytes(), tr)
	if err != nil {
		t.Fatal(err)
	}
	k2, c2, err := Agree(app, srv.PublicKey().Bytes(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) || CheckConfirm(c1, c2) != nil || len(k1) != OfflineKeySize {
		t.Fatal("sides disagree")
	}
	other := tr
	other.DeviceID = "dev_2"
	k3, c3, _ := Agree(app, srv.PublicKey().Bytes(), other)
	if bytes.Equal(k1, k3) || CheckConfirm(c1, c3) == nil {
		t.Fatal("transcript not bound")
	}
	if _, _, err := Agree(app, make([]byte, 32), tr); err == nil {
		t.Fatal("low-order peer key accepted")
	}
	if _, _, err := Agree(app, []byte{1, 2}, tr); err == nil {
		t.Fatal("short peer key accepted")
	}
}

func TestApproval(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	key := bytes.Repeat([]byte{5}, 32)
	a := Approval{Version: Version, PushID: "psh_1", Tx: TxBinding("lh", "psh_1"), DeviceID: "dev_1", Decision: DecisionApprove,
		Number: "42", Unlock: UnlockPIN, Time: 1700000000}
	a.Sign(priv, key)
	if err := a.Verify(pub, key); err != nil {
		t.Fatal(err)
	}
	// A wrong PIN gives other keys: either proof fails.
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	b := a
	b.Sign(otherPriv, key)
	if err := b.Verify(pub, key); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other signing key: %v", err)
	}
	c := a
	c.Sign(priv, bytes.Repeat([]byte{6}, 32))
	if err := c.Verify(pub, key); !errors.Is(err, ErrBadProof) {
		t.Fatalf("other offline key: %v", err)
	}
	// Every signed field is bound.
	for _, mutate := range []func(*Approval){
		func(x *Approval) { x.Number = "43" }, func(x *Approval) { x.PushID = "psh_2" }, func(x *Approval) { x.Unlock = UnlockBiometric },
		func(x *Approval) { x.Tx = TxBinding("lh2", "psh_1") }, func(x *Approval) { x.DeviceID = "dev_2" }, func(x *Approval) { x.Time++ },
	} {
		m := a
		mutate(&m)
		if err := m.Verify(pub, key); err == nil {
			t.Fatalf("mutated approval verified: %+v", m)
		}
	}
	d := Approval{Version: Version, PushID: "psh_1", Tx: a.Tx, DeviceID: "dev_1", Decision: DecisionDeny, Number: "1", Unlock: UnlockPIN}
	if err := d.Check(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("denial with number: %v", err)
	}
}

func TestResponse(t *testing.T) {
	key := bytes.Repeat([]byte{0x31}, 32)
	r, err := Respond(key, "123 456")
	if err != nil || len(r) != 8 {
		t.Fatalf("respond: %q %v", r, err)
	}
	want, _ := ocra.MustParseSuite("OCRA-1:HOTP-SHA256-8:QN06").Compute(key, ocra.Input{Question: "123456"})
	if r != want || !CheckResponse(key, "123456", FormatResponse(r)) || CheckResponse(key, "123457", r) {
		t.Fatal("response mismatch")
	}
	if _, err := Respond(key, "12a456"); err == nil {
		t.Fatal("bad challenge accepted")
	}
}

func TestWrapHasNoOracle(t *testing.T) {
	salt := bytes.Repeat([]byte{1}, 16)
	k := KDF{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
	secret := bytes.Repeat([]byte{9}, 32)
	p1, err := Pad("1234", salt, k, 32)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := XOR(secret, p1)
	p2, _ := Pad("1235", salt, k, 32)
	if bytes.Equal(XOR(wrapped, p2), secret) || !bytes.Equal(XOR(wrapped, p1), secret) {
		t.Fatal("wrap")
	}
	if _, err := Pad("1234", salt, KDF{Time: 1, MemoryKiB: 1 << 30, Threads: 1}, 32); err == nil {
		t.Fatal("huge memory accepted")
	}
}

func TestValidPIN(t *testing.T) {
	for _, c := range []struct {
		platform, pin string
		ok            bool
	}{
		{PlatformAndroid, "1234", true}, {PlatformAndroid, "a$c9Z!", true}, {PlatformAndroid, "123", false},
		{PlatformAndroid, "1234567", false}, {PlatformAndroid, "12 34", false}, {PlatformAndroid, "12é4", false},
		{PlatformIOS, "face-id-secret", true}, {PlatformIOS, "abc", false}, {"windows", "1234", false},
	} {
		if err := ValidPIN(c.platform, c.pin); (err == nil) != c.ok {
			t.Errorf("ValidPIN(%s, %q) = %v", c.platform, c.pin, err)
		}
	}
}

// Up to three wrong characters anywhere are always detected.
func TestCodeThreeErrorsCaught(t *testing.T) {
	c, _ := NewCode(nil)
	s := []byte(c.String())
	for i := 1; i < len(s); i++ {
		for j := i + 1; j < len(s); j++ {
			for k := j + 1; k < len(s); k += 3 {
				m := append([]byte(nil), s...)
				m[i] = codeAlphabet[(strings.IndexByte(codeAlphabet, m[i])+1)%32]
				m[j] = codeAlphabet[(strings.IndexByte(codeAlphabet, m[j])+7)%32]
				m[k] = codeAlphabet[(strings.IndexByte(codeAlphabet, m[k])+13)%32]
				if _, err := ParseCode(string(m)); err == nil {
					t.Fatalf("errors at %d,%d,%d not detected", i, j, k)
				}
			}
		}
	}
}

// Codewords vanish at the generator's roots α, α², α³.
func TestCodeIsReedSolomon(t *testing.T) {
	for n := 0; n < 20; n++ {
		c, _ := NewCode(nil)
		for r := 1; r <= 3; r++ {
			var acc byte
			for i := 0; i < len(c.s); i++ { // Horner, highest degree first
				acc = gfMul(acc, gfExp[r]) ^ byte(strings.IndexByte(codeAlphabet, c.s[i]))
			}
			if acc != 0 {
				t.Fatalf("%s(α^%d) = %d", c, r, acc)
			}
		}
	}
}
