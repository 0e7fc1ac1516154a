// Package apitest checks answers of slsd's JSON API against the API
// document (api/openapi.json) with kin-openapi, for tests: the end-to-end
// journeys check every answer they receive, and the server's package
// tests check every answer their in-process server sends (Handler). An
// answer with a status its operation does not document fails as much as a
// body of the wrong shape, so the document cannot drift from the code.
package apitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/secure-login-system/sls/api"
)

var spec struct {
	once   sync.Once
	router routers.Router
	err    error
}

// router loads the document once. Its servers are dropped: test servers
// listen on random ports, so only paths are matched.
func router() (routers.Router, error) {
	spec.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(api.Document)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			spec.err = fmt.Errorf("api/openapi.json: %w", err)
			return
		}
		doc.Servers = nil
		spec.router, spec.err = legacy.NewRouter(doc)
	})
	return spec.router, spec.err
}

// Check returns why an answer does not match the document, or nil.
// rawURL may be a whole URL or a path. Requests to paths outside the API
// (the portal, OIDC endpoints) and to routes the document does not have
// (probes of unknown endpoints, wrong methods) are not the document's
// business and pass; so does no answer at all (status 0). Bodies are
// checked when they are JSON; images, pages and event streams are checked
// for status and headers only.
func Check(method, rawURL string, status int, header http.Header, body []byte) error {
	if status == 0 {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || !strings.HasPrefix(u.Path, "/api/") {
		return nil
	}
	r, err := router()
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, u.Path, nil)
	if err != nil {
		return nil
	}
	route, params, err := r.FindRoute(req)
	// The router makes a new RouteError each time; tell them by reason.
	if re := (*routers.RouteError)(nil); errors.As(err, &re) &&
		(re.Reason == routers.ErrPathNotFound.Error() || re.Reason == routers.ErrMethodNotAllowed.Error()) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finding the route: %w", err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s (%s %s) answered %d, which api/openapi.json does not describe: %.1200s\nbody: %.600s",
			route.Operation.OperationID, method, route.Path, status, err.Error(), body)
	}
	return nil
}

// Handler wraps an API handler so that every answer it writes is checked
// (Check) once written; a mismatch is an error of tb. Event streams pass
// through untouched.
func Handler(tb testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.stream {
			return
		}
		if err := Check(r.Method, r.URL.Path, rec.status(), w.Header(), rec.body.Bytes()); err != nil {
			tb.Errorf("answer does not match the API document: %v", err)
		}
	})
}

// recorder keeps a copy of the status and body it passes on.
type recorder struct {
	http.ResponseWriter
	code   int
	body   bytes.Buffer
	stream bool
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if r.body.Len() < 1<<20 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Flush marks a streamed answer (not checked) and passes the flush on.
func (r *recorder) Flush() {
	r.stream = true
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
