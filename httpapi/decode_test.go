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
