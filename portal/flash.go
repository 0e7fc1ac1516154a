package portal

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// cookieFlash carries what a form's answer has to say to the page it
// redirects to (post/redirect/get): a refusal or a notice, the status the
// page answers with, and the form's non-secret values to fill in again.
// Reloading that page then shows it again instead of posting the form
// twice.
const cookieFlash = "sls_flash"

// flashTTL bounds how long a flash waits for its page: the browser follows
// the redirect at once.
const flashTTL = 60

// maxFlash bounds the cookie (browsers keep 4 KB per cookie).
const maxFlash = 2800

type flash struct {
	// Path is the page the flash is for; another page ignores it.
	Path   string            `json:"p"`
	Error  string            `json:"e,omitempty"`
	Notice string            `json:"n,omitempty"`
	Status int               `json:"s,omitempty"`
	Fields map[string]string `json:"f,omitempty"`
}

// secretField reports whether a form field may never travel in a flash:
// passwords, PINs, device answers, tokens. Handlers name the fields to
// keep; this is the backstop.
func secretField(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "pin", "response", "value1", "value2", "code", "csrf", "token", "answer", "draft", "secret", "confirmation"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// flashMAC binds a flash to this browser's pre-session value, so a flash
// cannot be carried to another browser, and signs it with the sealing
// key's derived MAC like the CSRF tokens.
func (q *req) flashMAC(payload string) string {
	return q.p.mac("portal.flash", q.pre+"\x00"+payload)
}

// redirectWith answers a form with 303 See Other to path, leaving f for
// that page. keep names the posted fields to fill in again (never secret
// ones).
func (q *req) redirectWith(path string, f flash, keep ...string) {
	page, _, _ := strings.Cut(path, "?")
	page, _, _ = strings.Cut(page, "#")
	f.Path = page
	for _, k := range keep {
		if secretField(k) {
			continue
		}
		if v := q.r.PostFormValue(k); v != "" {
			if f.Fields == nil {
				f.Fields = map[string]string{}
			}
			f.Fields[k] = v
		}
	}
	b, _ := json.Marshal(f)
	if len(b) > maxFlash { // too long to keep: the message matters more than the fields
		f.Fields = nil
		b, _ = json.Marshal(f)
	}
	if len(b) <= maxFlash {
		payload := base64.RawURLEncoding.EncodeToString(b)
		q.setCookie(cookieFlash, payload+"."+q.flashMAC(payload), flashTTL)
	}
	q.redirect(path)
}

// back answers a refused form: to path with the error and the status the
// refusal has.
func (q *req) back(path string, status int, msg string, keep ...string) {
	q.redirectWith(path, flash{Error: msg, Status: status}, keep...)
}

// loadFlash takes the flash meant for this GET page, once: the cookie is
// cleared, so a reload shows the page as it now is.
func (q *req) loadFlash() {
	v := q.cookie(cookieFlash)
	if v == "" || q.r.Method != http.MethodGet {
		return
	}
	q.clearCookie(cookieFlash)
	payload, mac, ok := strings.Cut(v, ".")
	if !ok || len(v) > 2*maxFlash || subtle.ConstantTimeCompare([]byte(mac), []byte(q.flashMAC(payload))) != 1 {
		return
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return
	}
	var f flash
	if json.Unmarshal(raw, &f) != nil || f.Path != q.r.URL.Path {
		return
	}
	for k := range f.Fields {
		if secretField(k) {
			delete(f.Fields, k)
		}
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		f.Status = 0
	}
	q.flash = &f
}

// formValue is a field as posted, or as a flash brought it back.
func (q *req) formValue(name string) string {
	if q.r.Method == http.MethodPost {
		return q.r.PostFormValue(name)
	}
	if q.flash != nil {
		return q.flash.Fields[name]
	}
	return ""
}

// flashed reports whether a flash with an error came to this page.
func (q *req) flashed() bool { return q.flash != nil && q.flash.Error != "" }
