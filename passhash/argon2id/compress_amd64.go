//go:build amd64 && gc && !purego

package argon2id

import "golang.org/x/sys/cpu"

// haveCompress is true when compress can run.
var haveCompress = cpu.X86.HasAVX2

// compress sets out to G(x, y), or xors G(x, y) into out when xor is set
// (RFC 9106 §3.5: passes after the first xor into the block they
// overwrite). out may be x or y. It needs AVX2.
//
//go:noescape
func compress(out, x, y *block, xor bool)
