package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequestID: every answer, errors and panics included, carries an id
// that is in the body of an error and in every log line of the request;
// an id from a trusted proxy is kept, any other replaced.
func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&logs, nil)))
	proxies, _ := ParseProxies([]string{"10.0.0.0/8"})
	h := TrustProxies(proxies, RequestID(Logging(log, Recover(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		WriteError(w, r, log, errInternalForTest)
	})))))
	for _, tc := range []struct {
		path, peer, incoming string
		keep                 bool
	}{
		{"/err", "198.51.100.7:1", "", false},
		{"/panic", "198.51.100.7:1", "", false},
		{"/err", "198.51.100.7:1", "chosen-by-the-client", false}, // not from a trusted proxy
		{"/err", "10.0.0.2:1", "edge-4f2a.91", true},
		{"/err", "10.0.0.2:1", "bad id\r\nX-Injected: 1", false},
		{"/err", "10.0.0.2:1", strings.Repeat("a", 65), false},
	} {
		logs.Reset()
		r := httptest.NewRequest("GET", tc.path, nil)
		r.RemoteAddr = tc.peer
		if tc.incoming != "" {
			r.Header.Set(HeaderRequestID, tc.incoming)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		id := w.Header().Get(HeaderRequestID)
		if !validRequestID(id) || (id == tc.incoming) != tc.keep {
			t.Fatalf("%s from %s with %q: id %q", tc.path, tc.peer, tc.incoming, id)
		}
		var body ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.RequestID != id {
			t.Fatalf("%s: error body %s does not carry %q", tc.path, w.Body, id)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) < 2 {
			t.Fatalf("%s: want the error and the access log lines, got %q", tc.path, logs.String())
		}
		for _, l := range lines {
			if !strings.Contains(l, `"request_id":"`+id+`"`) {
				t.Errorf("%s: log line without the request id: %s", tc.path, l)
			}
		}
	}
}

var errInternalForTest = &testErr{}

type testErr struct{}

func (*testErr) Error() string { return "a cause only the log may see" }
