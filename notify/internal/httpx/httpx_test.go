package httpx

import (
	"net/http"
	"testing"
	"time"

	"github.com/secure-login-system/sls/notify"
)

func TestCheckURL(t *testing.T) {
	for _, s := range []string{"https://hooks.example.com/sls", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:9/"} {
		if _, err := CheckURL(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"http://hooks.example.com/", "ftp://x/", "https://user:pw@x/", "https:///path", "://", "https://x/#frag", "http://10.0.0.1/"} {
		if _, err := CheckURL(s); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

func TestStatusError(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		status    int
		retry     string
		permanent bool
		wait      time.Duration
	}{
		{301, "", true, 0},
		{400, "", true, 0},
		{401, "", true, 0},
		{404, "", true, 0},
		{408, "", false, 0},
		{429, "7", false, 7 * time.Second},
		{429, "Sun, 01 Mar 2026 12:02:00 GMT", false, 2 * time.Minute},
		{429, "Sun, 01 Mar 2026 11:00:00 GMT", false, 0},
		{500, "", false, 0},
		{503, "999999999", false, time.Hour},
		{503, "soon", false, 0},
	}
	for _, c := range cases {
		resp := &http.Response{StatusCode: c.status, Header: http.Header{}}
		if c.retry != "" {
			resp.Header.Set("Retry-After", c.retry)
		}
		err := StatusError("x", resp, "detail", now)
		if err == nil || notify.IsPermanent(err) != c.permanent {
			t.Errorf("%d: %v permanent=%v", c.status, err, notify.IsPermanent(err))
		}
		if d, _ := notify.RetryAfter(err); d != c.wait {
			t.Errorf("%d %q: wait %v, want %v", c.status, c.retry, d, c.wait)
		}
	}
}
