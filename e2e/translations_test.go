package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTranslationsFolder: an operator's catalog in --translations changes
// the wording without a rebuild; a catalog that breaks a placeholder or
// names an unknown key stops slsd at start, naming what is wrong.
func TestTranslationsFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("portal/active.en.toml", `"login.title" = "Sign in to Example Brokerage"`+"\n")
	write("portal/active.hu.toml", `"login.title" = "Belépés: Example Brokerage"`+"\n")
	write("notify/active.en.toml", `"device.sms" = "text message"`+"\n")
	n := startNode(t, "", withArgs("--translations", dir))
	for lang, want := range map[string]string{"en": "Sign in to Example Brokerage", "hu": "Belépés: Example Brokerage", "es": "Iniciar sesión"} {
		req, _ := http.NewRequest("GET", n.url+"/login", nil)
		req.Header.Set("Accept-Language", lang)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), want) {
			t.Errorf("login page in %s does not say %q", lang, want)
		}
	}

	for name, tc := range map[string]struct{ rel, text, want string }{
		"lost verb":   {"portal/active.es.toml", `"card.instructions" = "Consulte su tarjeta."`, "card.instructions"},
		"unknown key": {"portal/active.en.toml", `"login.titel" = "x"`, "login.titel"},
		"placeholder": {"notify/active.hu.toml", "[\"login_code_sms.body\"]\nother = \"A kód: {{.Kod}}\"\n", "login_code_sms"},
		"syntax":      {"notify/active.en.toml", `"device.sms" = "unterminated`, "line 1"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := t.TempDir()
			p := filepath.Join(bad, tc.rel)
			os.MkdirAll(filepath.Dir(p), 0o700)
			os.WriteFile(p, []byte(tc.text+"\n"), 0o600)
			cmd := exec.Command(bin["slsd"], "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--sftp-listen", "127.0.0.1:0", "--translations", bad)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("slsd started with a broken catalog")
			}
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("slsd: %v, output %s; want a refusal naming %q", err, out, tc.want)
			}
		})
	}
}
