package protect

import (
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
)

func TestNormalizePayee(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "DE89 3704 0044 0532 0130 00": "DE89370400440532013000", "gb29-nwbk-6016-1331-9268-19": "GB29NWBK60161331926819", "1234": "1234",
	} {
		if got, err := NormalizePayee(in); err != nil || got != want {
			t.Errorf("NormalizePayee(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"123", "<script>", "DE89\u00a03704", strings.Repeat("1", 35), "ÄÖ12345"} {
		if _, err := NormalizePayee(bad); sls.ErrorCode(err) != sls.CodeInvalidArgument {
			t.Errorf("NormalizePayee(%q) accepted: %v", bad, err)
		}
	}
	if MaskPayee("DE89370400440532013000") != "…3000" || MaskPayee("") != "" {
		t.Error("mask")
	}
}

// FuzzNormalizePayee: whatever comes in, an accepted payee is 4–34
// upper-case letters and digits, stable under normalising again, and its
// signing digits are four digits.
func FuzzNormalizePayee(f *testing.F) {
	for _, s := range []string{"DE89 3704 0044 0532 0130 00", "abc-123", "", "12 34", "\x00", "🙂1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := NormalizePayee(s)
		if err != nil || p == "" {
			return
		}
		if len(p) < 4 || len(p) > 34 || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			t.Fatalf("%q → %q", s, p)
		}
		if again, err := NormalizePayee(p); err != nil || again != p {
			t.Fatalf("not stable: %q → %q → %q", s, p, again)
		}
		parts, err := factor.SignFields(sls.Binding{Payee: p})
		digits, amount := parts.PayeeDigits, parts.Amount
		if err != nil || len(digits) != 4 || strings.Trim(digits, "0123456789") != "" || amount != "" {
			t.Fatalf("sign fields of %q: %q %q %v", p, digits, amount, err)
		}
	})
}
