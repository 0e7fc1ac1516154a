package e2e

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

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The contract check: every API answer the journeys receive through call
// and callNoFatal is validated against api/openapi.json, status, headers
// and (for JSON) body, so the document cannot drift from what slsd
// really sends. An answer with a status the operation does not document
// fails as much as a body of the wrong shape.

var spec struct {
	once   sync.Once
	router routers.Router
	err    error
}

// specRouter loads api/openapi.json once. The document's servers are
// dropped: the nodes listen on random ports, so only paths are matched.
func specRouter() (routers.Router, error) {
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile("../api/openapi.json")
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

// checkAnswer returns why an answer does not match the document, or nil.
// Requests to paths outside the API (the portal, OIDC endpoints) and to
// routes the document does not have (probes of unknown endpoints, wrong
// methods) are not the document's business and pass.
func checkAnswer(method, rawURL string, status int, header http.Header, body []byte) error {
	if status == 0 {
		return nil // no answer (transport error)
	}
	u, err := url.Parse(rawURL)
	if err != nil || !strings.HasPrefix(u.Path, "/api/") {
		return nil
	}
	router, err := specRouter()
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, u.Path, nil)
	if err != nil {
		return nil
	}
	route, params, err := router.FindRoute(req)
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
		opts.ExcludeResponseBody = true // images, pages, event streams: status and headers only
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

// stray collects mismatches seen where no *testing.T is at hand
// (callNoFatal runs in other goroutines); TestMain fails the run on them.
var stray struct {
	sync.Mutex
	errs []string
}

func recordStray(err error) {
	stray.Lock()
	defer stray.Unlock()
	if len(stray.errs) < 50 {
		stray.errs = append(stray.errs, err.Error())
	}
}

// strayErrors returns the mismatches recordStray collected.
func strayErrors() []string {
	stray.Lock()
	defer stray.Unlock()
	return append([]string(nil), stray.errs...)
}
