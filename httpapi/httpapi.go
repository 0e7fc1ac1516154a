// Package httpapi is the JSON API under /api/v1: the login journey and
// session checks for clients and integrators, and the operator API (under
// /api/v1/ops) for Client Services. Domain errors become HTTP statuses
// here and only here; the body always carries the stable code and a
// client-safe message:
//
//	{"error": {"code": "bad_response", "message": "…"}}
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/cardout"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/ratelimit"
)

// MaxBody bounds request bodies; nothing in the API needs more.
const MaxBody = 64 << 10

// API serves the JSON API.
type API struct {
	Login  *login.Service
	Manage *manage.Service
	Store  sls.Store
	Log    *slog.Logger
	// Extra returns the routes of other features (SMS, IB Key, policy…),
	// declared like the core's (Route).
	Extra []func(*API) []Route
	// AppAuth authenticates IB Key app instances (sls.CallerApp routes);
	// set by the IB Key feature.
	AppAuth func(http.HandlerFunc) http.Handler
	// Limiter bounds the operator API per client address (nil: no limit).
	Limiter *ratelimit.Limiter
	// Operators authenticates operators and keeps dual control.
	Operators *operators.Service
	// Cards is where card secrets go (the shipping workflow's output),
	// never into an answer.
	Cards cardout.Dir
	// DataDir holds the bootstrap secret's file (removed once spent).
	DataDir string

	mux *http.ServeMux
}

// Handler returns the API's handler (Build must have succeeded; a
// handler asked for before that builds now and panics on a bad table, a
// programming error that tests catch).
func (a *API) Handler() http.Handler {
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	if a.mux == nil {
		if err := a.Build(); err != nil {
			panic(err)
		}
	}
	return a.mux
}

// StatusOf is the HTTP status that goes with an error code, for the API
// and the portal's pages alike.
func StatusOf(code sls.Code) int {
	switch code {
	case sls.CodeInvalidRequest, sls.CodeInvalidArgument:
		return http.StatusBadRequest
	case sls.CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case sls.CodeNotFound:
		return http.StatusNotFound
	case sls.CodeConflict, sls.CodeLoginCompleted:
		return http.StatusConflict
	case sls.CodeUnauthenticated, sls.CodeInvalidCredentials, sls.CodeBadResponse, sls.CodeStepUpRequired:
		return http.StatusUnauthorized
	case sls.CodeForbidden, sls.CodeIPNotAllowed, sls.CodeNotEligible, sls.CodeApprovalRequired:
		return http.StatusForbidden
	case sls.CodeLocked:
		return http.StatusLocked
	case sls.CodeLoginExpired:
		return http.StatusGone
	case sls.CodeTooManyAttempts, sls.CodeRateLimited:
		return http.StatusTooManyRequests
	case sls.CodeDeviceUnavailable, sls.CodeActivationFailed, sls.CodeLimitExceeded:
		return http.StatusUnprocessableEntity
	case sls.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON form of an error.
type ErrorBody struct {
	Error struct {
		Code    sls.Code       `json:"code"`
		Message string         `json:"message"`
		Detail  map[string]any `json:"detail,omitempty"`
		// RequestID is the request's id (X-Request-Id), for the client
		// to quote to support.
		RequestID string `json:"request_id,omitempty"`
	} `json:"error"`
}

// WriteError writes err as JSON. Errors that are not *sls.Error are
// internal: the client gets a generic message, the log gets the cause.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *sls.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) {
			e = sls.Errorf(sls.CodeUnavailable, "The request was cancelled.")
		} else {
			log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
			e = sls.ErrInternal
		}
	} else if e.Err != nil {
		log.WarnContext(r.Context(), "request failed", "code", e.Code, "path", r.URL.Path, "err", e.Err)
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message, body.Error.Detail = e.Code, e.Message, e.Detail
	body.Error.RequestID = RequestIDOf(r.Context())
	status := StatusOf(e.Code)
	SetRetryAfter(w, e)
	switch {
	case e.Code == sls.CodeStepUpRequired:
		// RFC 9470 (OAuth 2.0 Step Up Authentication Challenge): the
		// session is valid but has not proven enough, recently enough.
		h := `Bearer realm="sls", error="insufficient_user_authentication"`
		if age, ok := e.Detail["max_age_seconds"].(int); ok {
			h += fmt.Sprintf(`, max_age=%d`, age)
		}
		w.Header().Set("WWW-Authenticate", h)
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="sls"`)
	}
	WriteJSON(w, status, body)
}

// SetRetryAfter sets the Retry-After header (RFC 9110 §10.2.3) from the
// wait a rate-limited (429, RFC 6585 §4) or busy (503) refusal carries in
// Detail["retry_after_seconds"]; the API and the portal's pages both use
// it.
func SetRetryAfter(w http.ResponseWriter, err error) {
	var e *sls.Error
	if !errors.As(err, &e) {
		return
	}
	status := StatusOf(e.Code)
	if secs, ok := e.Detail["retry_after_seconds"].(int); ok && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // answers hold tokens and personal data
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// Decode reads one JSON object from the body into v, strictly: unknown
// fields, wrong types, trailing data, anything but an object at the top
// (null included: it would leave v empty and look like a body that
// asked for nothing), a field tagged `required:"true"` left out or null
// (see checkRequired) and bodies over MaxBody are errors with a clear
// message.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/json") {
		return sls.Errorf(sls.CodeInvalidRequest, "The body must be JSON (Content-Type: application/json).")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		return decodeError(err)
	}
	return decodeObject(raw, v)
}

// decodeObject is Decode on bytes already read.
func decodeObject(raw []byte, v any) error {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return errEmptyBody
	case trimmed[0] != '{':
		return sls.Errorf(sls.CodeInvalidRequest, "The body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return sls.Errorf(sls.CodeInvalidRequest, "The body must hold exactly one JSON object.")
	}
	return checkRequired(trimmed, v)
}

// errEmptyBody is the error of a missing body.
var errEmptyBody = sls.Errorf(sls.CodeInvalidRequest, "The body is empty; a JSON object is required.")

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return sls.Errorf(sls.CodeBodyTooLarge, "The body is larger than %d bytes.", MaxBody)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return sls.Errorf(sls.CodeInvalidRequest, "The body is not valid JSON.")
	case errors.As(err, &typ):
		return sls.Errorf(sls.CodeInvalidRequest, "Field %q must be of type %s.", typ.Field, typ.Type.Kind())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return sls.Errorf(sls.CodeInvalidRequest, "Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return sls.Errorf(sls.CodeInvalidRequest, "The body could not be read as the expected JSON object.")
}

// Reply writes v with status, or err when it is set: the tail of most
// handlers.
func (a *API) Reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, status, v)
}

// DecodeOptional is Decode for a body that may be left out: only a body
// with no bytes at all (or only white space) leaves v as it is. Anything
// else must be a valid object: a malformed body is never taken for an
// empty one (errors.Is would match every invalid_request, since sls.Error
// compares codes, so the empty body is told apart by identity).
func DecodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	err := Decode(w, r, v)
	if err == errEmptyBody { //nolint:errorlint // identity, on purpose (see above)
		return nil
	}
	return err
}

// NoBody is for actions that take no parameters: nothing, or an empty
// object ({}), and never an object with fields the action would ignore.
func NoBody(w http.ResponseWriter, r *http.Request) error {
	return DecodeOptional(w, r, &struct{}{})
}

// Bearer is the request's bearer token ("" when none), for a route open
// to anyone that acts on a session when one is given.
func Bearer(r *http.Request) string { return bearer(r) }

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	userKey
	operatorKey
)

// SessionOf returns the authenticated session of a client route's request.
func SessionOf(r *http.Request) *sls.Session {
	s, _ := r.Context().Value(sessionKey).(*sls.Session)
	return s
}

// UserOf returns the authenticated user of a client route's request.
func UserOf(r *http.Request) *sls.User {
	u, _ := r.Context().Value(userKey).(*sls.User)
	return u
}

// OperatorOf returns the operator's name of an operator route's request.
func OperatorOf(r *http.Request) string {
	if o := OperatorFrom(r); o != nil {
		return o.Name
	}
	return ""
}

// OperatorFrom returns the operator of an operator route's request.
func OperatorFrom(r *http.Request) *sls.Operator {
	o, _ := r.Context().Value(operatorKey).(*sls.Operator)
	return o
}

// Logging logs one line per request: never bodies, tokens or query strings
// (they may hold secrets).
func Logging(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		next.ServeHTTP(rec, r)
		log.InfoContext(r.Context(), "http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"ms", float64(time.Since(start).Microseconds())/1000, "ip", ClientIP(r))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush lets streaming handlers (server-sent events) work through the
// recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Recover turns a panic into a 500 with a generic body; the panic value
// goes to the log only (it may hold anything).
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic in handler", "path", r.URL.Path, "panic", fmt.Sprint(p))
				WriteError(w, r, log, sls.ErrInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
