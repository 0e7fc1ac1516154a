package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// HeaderRequestID carries a request's id: on every answer, and from a
// trusted proxy that already gave the request one.
const HeaderRequestID = "X-Request-Id"

type requestIDKey struct{}

// RequestID gives every request an id, puts it in the request's context
// (RequestIDOf; every log line written with that context carries it, see
// LogHandler) and on the answer's X-Request-Id header, so that a client
// quoting it to support leads to the exact log lines. An id sent by a
// trusted proxy (TrustProxies must run first) is kept so the proxy's logs
// and ours agree; any other is replaced: a caller must not be able to
// make its requests look like someone else's in the logs.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !fromTrustedProxy(r) || !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestIDOf is the id RequestID gave the request of ctx, or "".
func RequestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// validRequestID admits 1 to 64 characters of [A-Za-z0-9._-]: enough for
// the ids proxies make (UUIDs, hex, base64url without padding), nothing
// that could forge a log line or a header.
func validRequestID(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// LogHandler wraps h so that every record logged with a request's context
// (the ...Context methods of slog.Logger) carries its request_id.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDOf(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
