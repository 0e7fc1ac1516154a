package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors of VerifySignature. A receiver answers 401 to any of them and must
// not process the body.
var (
	ErrMalformedSignature = errors.New("webhook: malformed signature header")
	ErrStaleSignature     = errors.New("webhook: signature timestamp outside tolerance")
	ErrBadSignature       = errors.New("webhook: signature does not match")
)

// DefaultTolerance is the clock skew plus transit time a receiver should
// accept; older signed requests are treated as replays.
const DefaultTolerance = 5 * time.Minute

// maxHeaderLen bounds the header a receiver parses: a timestamp and a few
// signatures (several v1 values allow secret rotation) fit easily.
const maxHeaderLen = 1024

// Sign returns the X-SLS-Signature value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks an X-SLS-Signature header against body and
// secret: the timestamp must be within tolerance of now (either way, for
// clock skew) and one of the v1 signatures must match. Unknown keys (future
// schemes) are ignored; duplicate or missing t, no v1, or anything not in
// key=value form is malformed. tolerance must be positive.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		return errors.New("webhook: tolerance must be positive")
	}
	if len(header) > maxHeaderLen {
		return ErrMalformedSignature
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" {
			return ErrMalformedSignature
		}
		switch k {
		case "t":
			if ts != "" || v == "" || len(v) > 12 {
				return ErrMalformedSignature
			}
			for i := 0; i < len(v); i++ {
				if v[i] < '0' || v[i] > '9' {
					return ErrMalformedSignature
				}
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return ErrMalformedSignature
			}
			sigs = append(sigs, b)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return ErrMalformedSignature
	}
	sec, _ := strconv.ParseInt(ts, 10, 64) // at most 12 digits: cannot overflow
	skew := now.Sub(time.Unix(sec, 0))
	if skew > tolerance || skew < -tolerance {
		return ErrStaleSignature
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}
