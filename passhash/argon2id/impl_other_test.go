//go:build !amd64 || !gc || purego

package argon2id

import "testing"

// implementations runs f once: x/crypto computes every hash here.
func implementations(t testing.TB, f func(name string)) { f("x/crypto") }
