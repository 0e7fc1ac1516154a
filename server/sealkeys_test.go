package server_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
)

// TestSealedColumnsListed: every place the code seals a value into a
// table is in sls.SealedColumns, or a key rotation would leave it under
// the old key (and retiring that key would lose it).
func TestSealedColumnsListed(t *testing.T) {
	place := regexp.MustCompile(`seal\.Place\{Table: "([a-z_]+)", Column: "([a-z_]+)"`)
	notStored := map[string]bool{
		"portal.dscplus_order_draft":     true, // a hidden form field and cookie, minutes long
		"portal.withdrawal_confirmation": true, // a cookie the client carries while confirming, minutes long
		"portal.totp_enrolment":          true, // a cookie from the set-up form to its page, read once, a minute long
		"passkey_first_step.session":     true, // a passkey ceremony the client carries, 3 minutes long
	}
	found := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range place.FindAllStringSubmatch(string(b), -1) {
			found++
			name := m[1] + "." + m[2]
			if notStored[name] {
				continue
			}
			if !slices.ContainsFunc(sls.SealedColumns, func(c sls.SealedColumn) bool { return c.Name() == name }) {
				t.Errorf("%s seals into %s, which sls.SealedColumns does not list", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < len(sls.SealedColumns) {
		t.Fatalf("only %d seal places found", found)
	}
}
