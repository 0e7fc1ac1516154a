package totp

import (
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/seal"
)

// RFC 6238 Appendix B, SHA-1, with the 6 digits apps show (the last six
// of the RFC's 8).
func TestRFC6238Vectors(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471",
		1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		got, err := Code(secret, time.Unix(unix, 0))
		if err != nil || got != want {
			t.Errorf("T=%d: %s, %v; want %s", unix, got, err, want)
		}
	}
}

func newDevice(t testing.TB) (*Factor, *sls.Device, string) {
	t.Helper()
	s, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	d, key, err := Enroll(s, nil, "usr_1", "SLS", "alice", "phone", time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key.URI, "otpauth://totp/SLS:alice?") || !strings.Contains(key.URI, "secret="+key.Secret) ||
		d.State != sls.StatePending || d.Kind != sls.KindTOTP {
		t.Fatalf("enrol: %+v %+v", d, key)
	}
	raw, err := factor.OpenSecret(s, d)
	if err != nil || len(raw) != SecretSize {
		t.Fatalf("sealed secret: %d bytes, %v", len(raw), err)
	}
	return &Factor{Sealer: s}, d, key.Secret
}

func TestVerify(t *testing.T) {
	f, d, secret := newDevice(t)
	now := time.Unix(1_800_000_015, 0) // mid-step
	code := func(offset int) string {
		c, err := Code(secret, now.Add(time.Duration(offset)*Period))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	verify := func(answer string, at time.Time) error {
		_, err := f.Verify(t.Context(), nil, nil, d, nil, answer, at)
		return err
	}
	// Two steps away: refused, whichever way.
	for _, off := range []int{-2, 2} {
		if err := verify(code(off), now); !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("code %d steps away: %v", off, err)
		}
	}
	// One step late (the app's clock or the typing): accepted once.
	late := code(-1)
	if err := verify(late, now); err != nil {
		t.Fatalf("code of the step before: %v", err)
	}
	if err := verify(late, now); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("the same code twice: %v", err)
	}
	// The current one, then the one before it again: the earlier step is spent.
	if err := verify(code(0), now); err != nil {
		t.Fatalf("current code: %v", err)
	}
	if err := verify(late, now); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("an earlier step after a later one: %v", err)
	}
	// One step ahead, with spaces as people type them.
	ahead := code(1)
	if err := verify(ahead[:3]+" "+ahead[3:], now); err != nil {
		t.Fatalf("code of the next step: %v", err)
	}
	for _, bad := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦", strings.Repeat("9", 600), "000000\x00"} {
		if err := verify(bad, now.Add(time.Hour)); !errors.Is(err, sls.ErrBadResponse) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzVerify: any answer is refused or accepted without panicking, and
// only six ASCII digits can be accepted.
func FuzzVerify(f *testing.F) {
	fac, d, _ := newDevice(f)
	for _, s := range []string{"123456", "", " 12 34 56 ", "abcdef", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		dev := *d
		_, err := fac.Verify(t.Context(), nil, nil, &dev, nil, answer, time.Unix(1_800_000_015, 0))
		if err == nil && !sixDigits(strings.ReplaceAll(strings.TrimSpace(answer), " ", "")) {
			t.Fatalf("accepted %q", answer)
		}
		if err != nil && !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("%q: %v", answer, err)
		}
	})
}
