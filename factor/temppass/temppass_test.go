package temppass

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/secure-login-system/sls/seal"
)

func TestGenerate(t *testing.T) {
	shape := regexp.MustCompile(`^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$`)
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c, err := Generate(nil)
		if err != nil || !shape.MatchString(c) {
			t.Fatalf("code %q: %v", c, err)
		}
		if seen[c] {
			t.Fatalf("code %q repeated", c)
		}
		seen[c] = true
	}
}

func TestHashMatchesTypedForms(t *testing.T) {
	s, _ := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	d := NewDevice(s, "usr_1", "ABCD-EFGH-JKMN", time.Unix(0, 0))
	if bytes.Contains(d.Secret, []byte("ABCD")) {
		t.Fatal("code stored in clear")
	}
	for _, typed := range []string{"ABCD-EFGH-JKMN", "abcd efgh jkmn", "ABCDEFGHJKMN"} {
		if !bytes.Equal(Hash(s, typed), d.Secret) {
			t.Errorf("%q does not match", typed)
		}
	}
	if bytes.Equal(Hash(s, "ABCD-EFGH-JKMP"), d.Secret) {
		t.Error("another code matches")
	}
	if !d.ExpiresAt.Equal(time.Unix(0, 0).Add(12 * 24 * time.Hour)) {
		t.Errorf("expires %v, want 12 days (2 full + 10 portal-only)", d.ExpiresAt)
	}
}
