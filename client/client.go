// Package client is the Go client of the SLS JSON API: one place that
// sends a request, reads the answer and turns an error answer into an
// *Error with the server's stable code. slsctl and the ibkey app emulator
// use it; so can a brokerage's own tools.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Error is an error answer: the HTTP status and the server's body
// ({"error": {"code", "message", "detail"}}).
type Error struct {
	Status  int            `json:"-"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Detail  map[string]any `json:"detail,omitempty"`
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("the server answered %d", e.Status)
	}
	if r, ok := e.Detail["reason"]; ok {
		return fmt.Sprintf("%s (%s: %v)", e.Message, e.Code, r)
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

// UnreachableError: the server could not be reached at all (no answer).
type UnreachableError struct {
	Base string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the server at %s: %v", e.Base, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// DefaultTimeout bounds one request of a Client without its own HTTP client.
const DefaultTimeout = 60 * time.Second

// maxAnswer bounds an answer read into memory (a statement listing, an
// audit export page).
const maxAnswer = 64 << 20

// Client calls one server.
type Client struct {
	// Base is the server's URL, e.g. http://127.0.0.1:8080.
	Base string
	// Token is sent as "Authorization: Bearer …" (an operator token, a
	// session token, an app instance's token); empty: none.
	Token string
	// Approval is sent as X-SLS-Approval: a second operator's approval
	// of this request (dual control).
	Approval string
	// Header holds extra headers sent with every request (e.g. a
	// forwarding header in a proxy's tests); nil: none.
	Header http.Header
	// HTTP is the HTTP client; nil: one with DefaultTimeout.
	HTTP *http.Client
}

// New returns a client of base with token.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// Do sends body (nil: none) as JSON and decodes a JSON answer into out
// (nil: ignored).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	if body == nil {
		return c.DoRaw(ctx, method, path, "", nil, 0, out)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.DoRaw(ctx, method, path, "application/json", bytes.NewReader(b), int64(len(b)), out)
}

// DoRaw sends body as is with contentType (none when empty) and decodes a
// JSON answer into out. size < 0 (unknown, e.g. standard input) sends the
// body chunked.
func (c *Client) DoRaw(ctx context.Context, method, path, contentType string, body io.Reader, size int64, out any) error {
	resp, err := c.send(ctx, c.httpClient(), method, path, contentType, body, size, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return errorOf(resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Response is an answer read whole, whatever its status.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send sends body as is with contentType (none when empty) and returns the
// answer whatever its status: for callers that judge refusals themselves
// (tests, load generators). Only a failure to get an answer is an error
// (*UnreachableError).
func (c *Client) Send(ctx context.Context, method, path, contentType string, body io.Reader) (*Response, error) {
	size := int64(-1)
	if body == nil {
		size = 0
	} else if l, ok := body.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	resp, err := c.send(ctx, c.httpClient(), method, path, contentType, body, size, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &UnreachableError{Base: c.Base, Err: err}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// Stream opens a long-lived GET (server-sent events, accept given) with
// no overall timeout; the caller reads and closes the body.
func (c *Client) Stream(ctx context.Context, path, accept string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, &http.Client{}, http.MethodGet, path, "", nil, 0, accept)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return nil, errorOf(resp.StatusCode, data)
	}
	return resp.Body, nil
}

func (c *Client) send(ctx context.Context, hc *http.Client, method, path, contentType string, body io.Reader, size int64, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil && size >= 0 {
		req.ContentLength = size
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Approval != "" {
		req.Header.Set("X-SLS-Approval", c.Approval)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &UnreachableError{Base: c.Base, Err: err}
	}
	return resp, nil
}

// errorOf reads an error answer; a body that is not the server's error
// shape still gives the status.
func errorOf(status int, data []byte) *Error {
	var e struct {
		Error Error `json:"error"`
	}
	_ = json.Unmarshal(data, &e)
	e.Error.Status = status
	return &e.Error
}
