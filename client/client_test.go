package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("X-SLS-Approval") != "apr_1" || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "headers", http.StatusBadRequest)
				return
			}
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
		case "/refused":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"forbidden","message":"No.","detail":{"reason":"role"}}}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>proxy</html>"))
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/", "tok")
	c.Approval = "apr_1"
	var out map[string]int
	if err := c.Do(context.Background(), "POST", "/ok", map[string]int{"a": 1}, &out); err != nil || out["a"] != 1 {
		t.Fatalf("ok: %v %v", out, err)
	}
	var e *Error
	if err := c.Do(context.Background(), "GET", "/refused", nil, nil); !errors.As(err, &e) || e.Status != 403 || e.Code != "forbidden" || e.Error() != "No. (forbidden: role)" {
		t.Fatalf("refused: %v", err)
	}
	if err := c.Do(context.Background(), "GET", "/other", nil, nil); !errors.As(err, &e) || e.Status != 502 || e.Code != "" {
		t.Fatalf("non-JSON error: %v", err)
	}
	var u *UnreachableError
	if err := New("http://127.0.0.1:1", "").Do(context.Background(), "GET", "/", nil, nil); !errors.As(err, &u) {
		t.Fatalf("unreachable: %v", err)
	}
}

// Send returns refusals as answers, sends the extra headers, and only a
// missing answer is an error.
func TestSend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Forwarded-For") != "192.0.2.7" || r.ContentLength != 7 {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":{"code":"rate_limited"}}`))
	}))
	defer srv.Close()
	c := New(srv.URL, "")
	c.Header = http.Header{"X-Forwarded-For": {"192.0.2.7"}}
	resp, err := c.Send(context.Background(), "POST", "/x", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil || resp.Status != 429 || resp.Header.Get("Retry-After") != "3" || !strings.Contains(string(resp.Body), "rate_limited") {
		t.Fatalf("send: %+v %v", resp, err)
	}
	srv.Close()
	var u *UnreachableError
	if _, err := c.Send(context.Background(), "GET", "/x", "", nil); !errors.As(err, &u) {
		t.Fatalf("closed server: %v", err)
	}
}
