package policy

import (
	"errors"
	"testing"
	"time"

	"github.com/secure-login-system/sls"
)

// ny is the default business calendar's zone, for readable test times.
var ny = DefaultLocation

// at returns a New York wall-clock time.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, ny)
}

// wantRefusal checks that err is an *sls.Error with code and, when cond is
// not empty, Detail["condition"] == cond; it returns the error.
func wantRefusal(t *testing.T, err error, code sls.Code, cond string) *sls.Error {
	t.Helper()
	var e *sls.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *sls.Error %s/%s", err, err, code, cond)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (%v)", e.Code, code, err)
	}
	if cond != "" && e.Detail[DetailCondition] != cond {
		t.Fatalf("condition = %v, want %s (%v)", e.Detail[DetailCondition], cond, err)
	}
	if e.Message == "" {
		t.Fatalf("empty message")
	}
	return e
}
