// Package httpx holds what the HTTP adapters of notify share: endpoint
// checks, a client that never follows redirects, and the mapping of HTTP
// outcomes to permanent and temporary failures.
package httpx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/secure-login-system/sls/notify"
)

// CheckURL parses an endpoint and refuses anything but https, except plain
// http to a loopback address (a sidecar on the same host): message bodies
// carry one-time codes and must not cross a network in clear.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%q: need scheme://host[/path], no credentials or fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%q: plain http is allowed to loopback only", raw)
		}
	default:
		return nil, fmt.Errorf("%q: scheme must be https", raw)
	}
	return u, nil
}

// Client returns a copy of base (or a new client) with the given timeout
// and redirects disabled: a redirect would re-send a signed or
// authenticated request to a place nobody configured.
func Client(base *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if timeout > 0 {
		c.Timeout = timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// MaxErrorBody bounds how much of a failed response is read for the error
// message.
const MaxErrorBody = 4 << 10

// ReadBody reads at most limit bytes of r.
func ReadBody(r io.Reader, limit int64) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, limit))
	return b
}

// StatusError classifies a response that is not 2xx. 4xx means the request
// itself is wrong and is permanent, except 408 (timeout) and 429 (rate
// limit), which are temporary like 5xx (RFC 9110 §15.5.9, RFC 6585 §4). A
// 3xx is permanent: it is a misconfigured endpoint, and redirects are not
// followed. detail is appended to the message. A Retry-After header is
// attached to temporary errors (see notify.RetryAfter).
func StatusError(prefix string, resp *http.Response, detail string, now time.Time) error {
	msg := fmt.Sprintf("%s: http status %d", prefix, resp.StatusCode)
	if detail != "" {
		msg += ": " + detail
	}
	err := errors.New(msg)
	s := resp.StatusCode
	switch {
	case s >= 300 && s < 400:
		return notify.Permanent(fmt.Errorf("%w (redirect to %q not followed)", err, resp.Header.Get("Location")))
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests:
	case s >= 400 && s < 500:
		return notify.Permanent(err)
	}
	return notify.WithRetryAfter(err, RetryAfter(resp.Header.Get("Retry-After"), now))
}

// maxRetryAfter caps a provider's request to wait, so that one bad header
// cannot park a message for days.
const maxRetryAfter = time.Hour

// RetryAfter parses a Retry-After value, delay-seconds or HTTP-date
// (RFC 9110 §10.2.3); zero when absent or unparsable.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
