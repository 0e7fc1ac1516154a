//go:build amd64 && gc && !purego

package argon2id

import "golang.org/x/sys/cpu"

var (
	// haveCompress is true when compress can run.
	haveCompress = cpu.X86.HasAVX2
	// useAVX512 picks the AVX-512 compression function.
	useAVX512 = cpu.X86.HasAVX512F
)

// compress sets out to G(x, y), or xors G(x, y) into out when xor is set
// (RFC 9106 §3.5: passes after the first xor into the block they
// overwrite). out may be x or y. It needs AVX2.
func compress(out, x, y *block, xor bool) {
	if useAVX512 {
		compressAVX512(out, x, y, xor)
		return
	}
	compressAVX2(out, x, y, xor)
}

// compressAVX2 is compress with 256-bit registers, two rows (columns) at
// a time.
//
//go:noescape
func compressAVX2(out, x, y *block, xor bool)

// compressAVX512 is compress with 512-bit registers, all eight rows
// (columns) at once. It needs AVX-512F.
//
//go:noescape
func compressAVX512(out, x, y *block, xor bool)
