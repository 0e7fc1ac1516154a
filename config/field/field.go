// Package field holds what configuration sections are made of, for the
// packages whose rules a section sets: durations written as strings
// ("3m", "12h"), and errors that name the field they are about, so that
// package config can report every problem of a file with its path
// ("login.max_failures") rather than stop at the first. It imports
// nothing of the project, so any package may use it.
package field

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Duration is a time.Duration written as "90s", "3m", "12h".
type Duration time.Duration

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`must be a duration string such as "3m" or "12h"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (use e.g. \"3m\", \"12h\")", s)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Error is a problem with one field. Path is relative to whatever checked
// it ("max_failures", "gateway.url"); Within makes it relative to an
// enclosing section.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errorf makes an Error about the field at path.
func Errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Errors collects the problems of one check; Err returns them joined (nil
// when there are none).
type Errors []error

// Addf adds a problem with the field at path.
func (e *Errors) Addf(path, format string, args ...any) {
	*e = append(*e, Errorf(path, format, args...))
}

// Add adds err (nil is ignored) under prefix: Within(prefix, err).
func (e *Errors) Add(prefix string, err error) {
	if err != nil {
		*e = append(*e, Within(prefix, err))
	}
}

// Err returns the problems joined, or nil.
func (e Errors) Err() error { return errors.Join(e...) }

// Within places err under prefix: the paths of the field errors it holds
// (alone or joined) become prefix.path, and any other error becomes an
// Error at prefix itself. An empty prefix changes nothing.
func Within(prefix string, err error) error {
	if err == nil || prefix == "" {
		return err
	}
	list := Flatten(err)
	out := make([]error, len(list))
	for i, fe := range list {
		out[i] = &Error{Path: Join(prefix, fe.Path), Msg: fe.Msg}
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// Flatten lists the field errors in err, unwrapping joined errors; an
// error that names no field is an Error with an empty path.
func Flatten(err error) []*Error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) && fe == err {
		return []*Error{fe}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Error
		for _, e := range j.Unwrap() {
			out = append(out, Flatten(e)...)
		}
		return out
	}
	if errors.As(err, &fe) {
		return []*Error{fe}
	}
	return []*Error{{Msg: err.Error()}}
}

// Join appends a path element: Join("a", "b") is "a.b"; an index
// ("[2]") is appended as is.
func Join(prefix, name string) string {
	switch {
	case prefix == "":
		return name
	case name == "":
		return prefix
	case name[0] == '[':
		return prefix + name
	}
	return prefix + "." + name
}
