//go:build amd64 && gc && !purego

package argon2id

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// implementations runs f once for every compression function this CPU
// can run, selected for the duration of f.
func implementations(t testing.TB, f func(name string)) {
	saved := useAVX512
	defer func() { useAVX512 = saved }()
	if !haveCompress {
		f("x/crypto")
		return
	}
	useAVX512 = false
	f("avx2")
	if cpu.X86.HasAVX512F {
		useAVX512 = true
		f("avx512")
	} else {
		t.Log("no AVX-512 here: its compression function is not tested")
	}
}
