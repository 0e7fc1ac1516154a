package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-login-system/sls/factor/dscplus"
)

func writeCard(t *testing.T) (string, []byte) {
	key := bytes.Repeat([]byte{0x42}, 32)
	raw, _ := json.Marshal(dscplus.CardFile{Format: dscplus.CardFormat, Serial: "DSC-7", Suite: dscplus.Suite.String(), Key: hex.EncodeToString(key)})
	p := filepath.Join(t.TempDir(), "card.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, key
}

func TestInteractivePrompts(t *testing.T) {
	card, key := writeCard(t)
	var out bytes.Buffer
	if err := run([]string{"--card", card}, strings.NewReader("1234\n654321\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	want, _ := dscplus.Respond(key, "1234", "654321")
	got := out.String()
	if !strings.Contains(got, "PIN> ") || !strings.Contains(got, "CHALLNG> ") || !strings.HasSuffix(got, want+"\n") {
		t.Fatalf("session:\n%s\nwant the prompts and %s", got, want)
	}
	if strings.Contains(got, "1234\n") {
		t.Fatal("the PIN was echoed")
	}
}

func TestScriptModes(t *testing.T) {
	card, key := writeCard(t)
	want, _ := dscplus.Respond(key, "1234", "000001")
	for _, tc := range []struct {
		args  []string
		stdin string
	}{
		{[]string{"--card", card, "--pin", "1234", "--challenge", "000001"}, ""},
		{[]string{"--card", card, "--stdin"}, "1234 000001\n"},
	} {
		var out bytes.Buffer
		if err := run(tc.args, strings.NewReader(tc.stdin), &out, &out); err != nil || strings.TrimSpace(out.String()) != want {
			t.Fatalf("%v: %q %v", tc.args, out.String(), err)
		}
	}
	var out bytes.Buffer
	for _, bad := range [][]string{{"--card", card, "--pin", "12", "--challenge", "000001"}, {"--card", card, "--pin", "1234", "--challenge", "12"}, {}} {
		if err := run(bad, strings.NewReader(""), &out, &out); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
