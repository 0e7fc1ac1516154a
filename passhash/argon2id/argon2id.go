// Package argon2id computes Argon2id (RFC 9106) with one lane in memory
// that is reused from one computation to the next, and gives every other
// case to golang.org/x/crypto/argon2.
//
// Why it is hand-written: a password login's cost is one Argon2id
// computation, and golang.org/x/crypto/argon2.IDKey allocates its whole
// memory cost (19 MiB by default) on every call. On a busy node that
// allocation is most of the process's garbage: the runtime zeroes or
// faults in 19 MiB per login and the collector runs every few logins,
// stopping the hashing goroutines. No well-kept module takes the caller's
// memory, so this package keeps the memory in a sync.Pool and fills it
// itself. Its output is the same as x/crypto's, byte for byte: the tests
// compare both on many parameters and fuzz the comparison.
//
// What is hand-written is small: the filling of one lane (RFC 9106 §3.4
// and §3.4.1.3), H' (§3.3) over x/crypto's BLAKE2b, and the compression
// function G (§3.5–3.6) in assembly, in AVX-512 where the CPU has it
// (eight rows or columns of a block at once) and in AVX2 otherwise (two
// at a time). x/crypto's own compression uses 128-bit registers, so on
// the development machine a default hash (m=19 MiB, t=2) takes about
// 9–12 ms here against 38–41 ms with x/crypto (BenchmarkKey). Anything
// else runs x/crypto/argon2 unchanged: more than one lane, a CPU without
// AVX2, a build with the purego tag, or another architecture.
//
// Memory is not cleared after use (as in RFC 9106's reference
// implementation without its clear-memory flag, and as in x/crypto,
// which leaves it to the collector): a reused buffer holds the last
// computation's blocks until the next one overwrites them.
package argon2id

import (
	"encoding/binary"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blake2b"
)

const (
	blockWords = 128              // a block is 1024 bytes (RFC 9106 §3.1)
	blockBytes = blockWords * 8   // bytes in a block
	syncPoints = 4                // slices per pass (RFC 9106 §3.4)
	typeID     = 2                // Argon2id's type y (RFC 9106 §3.2)
	version    = argon2.Version   // 0x13
	addrPerBlk = blockWords       // addresses one address block yields
	minMemory  = 2 * syncPoints   // the fewest blocks a lane can have
	h0Len      = blake2b.Size + 8 // H0 and the two words appended to it
)

type block [blockWords]uint64

// ReusesMemory reports whether Key keeps its memory between computations
// with threads lanes on this machine; otherwise every call allocates its
// memory cost, as x/crypto does.
func ReusesMemory(threads uint8) bool { return threads == 1 && haveCompress }

// Key derives a keyLen-byte key from password and salt with Argon2id,
// exactly as golang.org/x/crypto/argon2.IDKey(password, salt, time,
// memory, threads, keyLen) does.
func Key(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if !ReusesMemory(threads) || time < 1 || keyLen < 1 {
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	// RFC 9106 §3.2: m' = 4 × p × floor(m / 4p), at least 8p blocks.
	blocks := memory / syncPoints * syncPoints
	if blocks < minMemory {
		blocks = minMemory
	}
	buf := takeMemory(blocks)
	defer pool.Put(buf)
	b := (*buf)[:blocks]

	h0 := initialHash(password, salt, time, memory, keyLen)
	firstBlocks(b, &h0)
	fill(b, time)
	out := make([]byte, keyLen)
	var last [blockBytes]byte
	for i, w := range b[blocks-1] {
		binary.LittleEndian.PutUint64(last[i*8:], w)
	}
	hPrime(out, last[:])
	return out
}

// pool keeps lane memory between computations. A buffer lives as long as
// hashing keeps it in use: sync.Pool lets the collector drop it after two
// cycles unused, so an idle node gives the memory back.
var pool sync.Pool

// takeMemory returns pooled memory of at least n blocks, or new memory.
func takeMemory(n uint32) *[]block {
	if p, ok := pool.Get().(*[]block); ok {
		if uint32(cap(*p)) >= n {
			return p
		}
	}
	b := make([]block, n)
	return &b
}

// initialHash is H0 (RFC 9106 §3.2): BLAKE2b-512 over the parameters,
// password and salt, with no secret and no associated data, followed by
// room for the two words that seed each lane's first blocks.
func initialHash(password, salt []byte, time, memory, keyLen uint32) [h0Len]byte {
	h, _ := blake2b.New512(nil) // cannot fail without a key
	var w [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(w[:], v)
		h.Write(w[:])
	}
	put(1) // lanes
	put(keyLen)
	put(memory)
	put(time)
	put(version)
	put(typeID)
	put(uint32(len(password)))
	h.Write(password)
	put(uint32(len(salt)))
	h.Write(salt)
	put(0) // secret K: none
	put(0) // associated data X: none
	var h0 [h0Len]byte
	h.Sum(h0[:0])
	return h0
}

// firstBlocks sets B[0] = H'(H0 || 0 || 0) and B[1] = H'(H0 || 1 || 0)
// (RFC 9106 §3.2 steps 4 and 5; lane 0).
func firstBlocks(b []block, h0 *[h0Len]byte) {
	var raw [blockBytes]byte
	for j := range 2 {
		binary.LittleEndian.PutUint32(h0[blake2b.Size:], uint32(j))
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], 0)
		hPrime(raw[:], h0[:])
		for i := range b[j] {
			b[j][i] = binary.LittleEndian.Uint64(raw[i*8:])
		}
	}
}

// hPrime is H', BLAKE2b extended to any output length (RFC 9106 §3.3),
// over LE32(len(out)) || in.
func hPrime(out, in []byte) {
	var prefix [4]byte
	binary.LittleEndian.PutUint32(prefix[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		h, _ := blake2b.New(len(out), nil) // 1..64 bytes cannot fail
		h.Write(prefix[:])
		h.Write(in)
		h.Sum(out[:0])
		return
	}
	// V1 = H^64(LE32(T) || in), Vi = H^64(Vi-1); out is the first 32
	// bytes of V1..Vr followed by the last T - 32r bytes as V(r+1).
	h, _ := blake2b.New512(nil)
	h.Write(prefix[:])
	h.Write(in)
	var v [blake2b.Size]byte
	h.Sum(v[:0])
	for len(out) > blake2b.Size {
		copy(out, v[:32])
		out = out[32:]
		if len(out) > blake2b.Size {
			v = blake2b.Sum512(v[:])
		}
	}
	last, _ := blake2b.New(len(out), nil)
	last.Write(v[:])
	last.Sum(out[:0])
}

// fill computes every block of one lane for time passes (RFC 9106 §3.4):
// indexes are data-independent in the first half of the first pass and
// taken from the previous block after that (Argon2id, §3.4.1.3).
func fill(b []block, time uint32) {
	n := uint32(len(b))
	segment := n / syncPoints
	var input, addresses, zero block
	for pass := range time {
		for slice := range uint32(syncPoints) {
			independent := pass == 0 && slice < syncPoints/2
			if independent {
				input = block{0: uint64(pass), 1: 0, 2: uint64(slice), 3: uint64(n), 4: uint64(time), 5: typeID}
			}
			first := uint32(0)
			if pass == 0 && slice == 0 {
				first = 2 // B[0] and B[1] are already set
				nextAddresses(&addresses, &input, &zero)
			}
			for index := first; index < segment; index++ {
				at := slice*segment + index
				prev := at - 1
				if at == 0 {
					prev = n - 1
				}
				var pseudo uint64
				if independent {
					if index%addrPerBlk == 0 {
						nextAddresses(&addresses, &input, &zero)
					}
					pseudo = addresses[index%addrPerBlk]
				} else {
					pseudo = b[prev][0]
				}
				ref := referenceIndex(pseudo, pass, slice, index, segment, n)
				compress(&b[at], &b[prev], &b[ref], pass > 0)
			}
		}
	}
}

// nextAddresses counts input's counter up and sets addresses to
// G(0, G(0, input)) (RFC 9106 §3.4.1.2).
func nextAddresses(addresses, input, zero *block) {
	input[6]++
	compress(addresses, input, zero, false)
	compress(addresses, addresses, zero, false)
}

// referenceIndex maps a pseudo-random word to the block that block index
// of the segment refers to, in a lane of n blocks (RFC 9106 §3.4.1.2;
// with one lane, the reference is always in the same lane).
func referenceIndex(pseudo uint64, pass, slice, index, segment, n uint32) uint32 {
	// The reference set: every block already computed that is not the
	// previous one. In the first pass it starts at 0; afterwards it is
	// the last three segments and the current one, starting after the
	// current segment's slice.
	var size, start uint32
	if pass == 0 {
		size = slice*segment + index - 1
	} else {
		size = 3*segment + index - 1
		start = (slice + 1) % syncPoints * segment
	}
	// x = J1² / 2^32, y = |W| × x / 2^32, zz = |W| − 1 − y.
	j1 := pseudo & 0xffffffff
	x := j1 * j1 >> 32
	y := uint64(size) * x >> 32
	zz := uint32(uint64(size) - 1 - y)
	// start < n and zz < size ≤ n: one subtraction wraps it (a division
	// here costs more than the rest of the function).
	ref := start + zz
	if ref >= n {
		ref -= n
	}
	return ref
}
