package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
)

type decodeTarget struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// A malformed body is never an empty one: the review that found
// opt-out running on a body of "{" is the case this pins down.
func TestDecodeStrict(t *testing.T) {
	for _, c := range []struct {
		body          string
		strict, optio sls.Code // "" accepted
	}{
		{"", sls.CodeInvalidRequest, ""},
		{"  \n", sls.CodeInvalidRequest, ""},
		{"{}", "", ""},
		{`{"name":"a","count":2}`, "", ""},
		{"{", sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{`{"name":"a"`, sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{`{"assessment":"deliberately_damaged"`, sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{"null", sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{"[]", sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{`"x"`, sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{"1", sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{`{"name":1}`, sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{`{"other":1}`, sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{`{} x`, sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{`{}{}`, sls.CodeInvalidRequest, sls.CodeInvalidRequest},
		{"{" + strings.Repeat(" ", MaxBody) + "}", sls.CodeBodyTooLarge, sls.CodeBodyTooLarge},
	} {
		for _, optional := range []bool{false, true} {
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			w := httptest.NewRecorder()
			var v decodeTarget
			var err error
			want := c.strict
			if optional {
				err, want = DecodeOptional(w, r, &v), c.optio
			} else {
				err = Decode(w, r, &v)
			}
			if got := sls.Code(""); err != nil {
				got = sls.ErrorCode(err)
				if got != want {
					t.Errorf("%.40q optional=%v: %v, want %q", c.body, optional, err, want)
				}
			} else if want != "" {
				t.Errorf("%.40q optional=%v: accepted, want %s", c.body, optional, want)
			}
		}
	}
}

type requiredTarget struct {
	List  *[]string `json:"list" required:"true"`
	Flag  bool      `json:"flag" required:"true"`
	Label string    `json:"label"`
}

// A field tagged required must be sent: left out or null it is refused
// (never read as "empty list" or "false"); sent as its zero value it is
// a deliberate answer.
func TestDecodeRequired(t *testing.T) {
	for _, c := range []struct {
		body string
		want sls.Code // "" accepted
	}{
		{`{"list":[],"flag":false}`, ""},
		{`{"list":["a"],"flag":true,"label":"x"}`, ""},
		{`{"LIST":[],"Flag":false}`, ""}, // names match as encoding/json matches them
		{`{}`, sls.CodeInvalidRequest},
		{`{"flag":false}`, sls.CodeInvalidRequest},
		{`{"list":[]}`, sls.CodeInvalidRequest},
		{`{"list":null,"flag":true}`, sls.CodeInvalidRequest},
		{`{"list":[],"flag":null}`, sls.CodeInvalidRequest},
		{`{"list":[],"flag": null }`, sls.CodeInvalidRequest},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		var v requiredTarget
		err := Decode(httptest.NewRecorder(), r, &v)
		if got := sls.ErrorCode(err); err != nil && got != c.want || err == nil && c.want != "" {
			t.Errorf("%s: %v, want %q", c.body, err, c.want)
		}
	}
	// An optional body that is sent is held to the same rule.
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"label":"x"}`))
	if err := DecodeOptional(httptest.NewRecorder(), r, &requiredTarget{}); sls.ErrorCode(err) != sls.CodeInvalidRequest {
		t.Errorf("optional body without its required fields: %v", err)
	}
}
