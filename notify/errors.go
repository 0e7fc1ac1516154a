package notify

import (
	"errors"
	"time"
)

// Sentinel errors.
var (
	// ErrNoSender is returned (wrapped, permanent) by Router.Send for a
	// channel nobody registered.
	ErrNoSender = errors.New("notify: no sender for channel")
	// ErrUnsupportedChannel is returned (wrapped, permanent) by an adapter
	// asked to send on a channel it does not serve.
	ErrUnsupportedChannel = errors.New("notify: channel not supported by this sender")
)

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix. It returns nil
// for a nil err. The mark survives further wrapping with %w.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked
// Permanent. Everything else (nil excepted) is temporary.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// WithRetryAfter attaches the wait a provider asked for (HTTP Retry-After,
// RFC 9110 §10.2.3) to a temporary error. It returns err unchanged when err
// is nil or d is not positive.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &retryAfterError{err: err, after: d}
}

// RetryAfter returns the wait attached by WithRetryAfter, if any. The outbox
// waits at least this long (and at least its own backoff) before retrying.
func RetryAfter(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}
