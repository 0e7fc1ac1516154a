package sls

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. Codes are part of the API
// contract: clients match on them, so a code is never renamed or reused.
type Code string

// Error codes. The HTTP status that goes with each code is decided at the
// edge (package httpapi), never here.
const (
	CodeInvalidRequest     Code = "invalid_request"     // malformed JSON, wrong types, unknown fields
	CodeBodyTooLarge       Code = "body_too_large"      // request body above the limit
	CodeInvalidArgument    Code = "invalid_argument"    // a field has a value the rule forbids
	CodeNotFound           Code = "not_found"           // unknown id (device, user, transaction…)
	CodeConflict           Code = "conflict"            // already exists / state does not allow it
	CodeUnauthenticated    Code = "unauthenticated"     // no or bad session/operator token
	CodeForbidden          Code = "forbidden"           // authenticated but not allowed
	CodeInvalidCredentials Code = "invalid_credentials" // wrong username or password (indistinguishable)
	CodeBadResponse        Code = "bad_response"        // wrong second-factor answer; attempt counted
	CodeLocked             Code = "account_locked"      // too many failed second-factor answers
	CodeLoginExpired       Code = "login_expired"       // login transaction past its deadline
	CodeLoginCompleted     Code = "login_completed"     // login transaction already answered successfully
	CodeTooManyAttempts    Code = "too_many_attempts"   // login transaction used all its answers
	CodeDeviceUnavailable  Code = "device_unavailable"  // device not active, suspended, expired or not usable here
	CodeRateLimited        Code = "rate_limited"        // asked again too soon / cap reached
	CodeIPNotAllowed       Code = "ip_not_allowed"      // login from an address outside the user's IP restrictions
	CodeLimitExceeded      Code = "limit_exceeded"      // withdrawal over the applicable limit; statement over an SFTP folder's quota
	CodeNotEligible        Code = "not_eligible"        // a policy condition is not met
	CodeActivationFailed   Code = "activation_failed"   // IB Key / card activation refused
	CodeInternal           Code = "internal"            // anything else; details only in the log
	CodeUnavailable        Code = "unavailable"         // shutting down or dependency down
	CodeStepUpRequired     Code = "step_up_required"    // prove a security device (again) first
	CodeApprovalRequired   Code = "approval_required"   // dual control: a second operator must approve this request
)

// Error is the error type the domain returns to callers. Message is safe to
// show to the client; Err (the cause) goes to the log only.
type Error struct {
	Code    Code
	Message string
	// Detail carries extra machine-readable fields for the client (for
	// example which sharing condition failed). It must never hold secrets.
	Detail map[string]any
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, sls.ErrLocked) match any *Error with the same code.
// It therefore tells codes apart, never two errors of one code: a package
// that must recognise one particular error of a code (an empty body among
// all invalid_request errors) compares identity or uses its own type.
// DecodeOptional once took every malformed body for an empty one this way.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf returns an *Error with the given code and a client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetail returns a copy of e with one more detail field.
func (e *Error) WithDetail(key string, value any) *Error {
	c := *e
	c.Detail = make(map[string]any, len(e.Detail)+1)
	for k, v := range e.Detail {
		c.Detail[k] = v
	}
	c.Detail[key] = value
	return &c
}

// Wrap returns a copy of e that carries cause for the log.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// Sentinel errors for errors.Is. Their messages are what clients see.
var (
	ErrInvalidCredentials = &Error{Code: CodeInvalidCredentials, Message: "The username or password is incorrect."}
	ErrBadResponse        = &Error{Code: CodeBadResponse, Message: "The security code is not correct. Please try again."}
	ErrLocked             = &Error{Code: CodeLocked, Message: "This user is locked after too many failed attempts. Please contact Client Services."}
	ErrLoginExpired       = &Error{Code: CodeLoginExpired, Message: "The login has expired. Please start over."}
	ErrLoginCompleted     = &Error{Code: CodeLoginCompleted, Message: "This login has already been completed."}
	ErrTooManyAttempts    = &Error{Code: CodeTooManyAttempts, Message: "Too many attempts for this login. Please start over."}
	ErrNotFound           = &Error{Code: CodeNotFound, Message: "Not found."}
	ErrUnauthenticated    = &Error{Code: CodeUnauthenticated, Message: "Authentication is required."}
	ErrForbidden          = &Error{Code: CodeForbidden, Message: "You are not allowed to do this."}
	ErrDeviceUnavailable  = &Error{Code: CodeDeviceUnavailable, Message: "This security device cannot be used now."}
	ErrConflict           = &Error{Code: CodeConflict, Message: "The request conflicts with the current state."}
	ErrInternal           = &Error{Code: CodeInternal, Message: "An internal error occurred."}
)

// ErrorCode returns the code of err, or CodeInternal when err is not an
// *Error (an unexpected failure whose details must not reach the client).
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
