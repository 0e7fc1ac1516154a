package sshkey

import (
	"encoding/binary"

	"golang.org/x/crypto/blake2b"
)

// This file implements Argon2 version 0x13 as specified in RFC 9106.
//
// It exists because PuTTY 0.75+ lets users pick Argon2d for .ppk files
// (puttygen --ppk-param kdf=argon2d) and golang.org/x/crypto/argon2 exports
// only Argon2i and Argon2id. Production code uses x/crypto for those two and
// this code only for Argon2d; the tests run all three variants here against
// the RFC 9106 §5 vectors and against x/crypto, so the shared parts (H0, H',
// the compression function G, block filling) are checked by two
// implementations and the data-dependent indexing by the RFC vector and by
// puttygen's own Argon2d files.

type argon2Type uint32

// Type values from RFC 9106 §3.1 ("y").
const (
	argon2d  argon2Type = 0
	argon2i  argon2Type = 1
	argon2id argon2Type = 2
)

const (
	argon2Version      = 0x13
	argon2BlockWords   = 128 // 1024-byte blocks as 64-bit words
	argon2SyncPoints   = 4   // slices per pass, RFC 9106 §3.4
	argon2AddrsInBlock = 128 // pseudo-random values per address block, RFC 9106 §3.4.1.2
)

type argon2Block [argon2BlockWords]uint64

// argon2Hash computes the Argon2 tag. The caller has checked the parameter
// ranges (passes >= 1, lanes >= 1, memoryKiB >= 8*lanes).
func argon2Hash(typ argon2Type, password, salt, secret, data []byte, passes, memoryKiB, lanes, tagLen uint32) []byte {
	// H0, RFC 9106 §3.2 step 1.
	h, _ := blake2b.New512(nil)
	var le [4]byte
	put32 := func(v uint32) {
		binary.LittleEndian.PutUint32(le[:], v)
		h.Write(le[:])
	}
	put32(lanes)
	put32(tagLen)
	put32(memoryKiB)
	put32(passes)
	put32(argon2Version)
	put32(uint32(typ))
	for _, b := range [][]byte{password, salt, secret, data} {
		put32(uint32(len(b)))
		h.Write(b)
	}
	h0 := h.Sum(nil)

	// m' = 4*p*floor(m/(4p)), RFC 9106 §3.2 step 2.
	blocks := 4 * lanes * (memoryKiB / (4 * lanes))
	laneLen := blocks / lanes
	segLen := laneLen / argon2SyncPoints
	mem := make([]argon2Block, blocks)

	// First two blocks of each lane, RFC 9106 §3.2 steps 3 and 4.
	var buf [1024]byte
	for l := uint32(0); l < lanes; l++ {
		for j := uint32(0); j < 2; j++ {
			var idx [8]byte
			binary.LittleEndian.PutUint32(idx[0:], j)
			binary.LittleEndian.PutUint32(idx[4:], l)
			argon2HPrime(buf[:], h0, idx[:])
			blockFromBytes(&mem[l*laneLen+j], buf[:])
		}
	}

	f := argon2Filler{typ: typ, mem: mem, lanes: lanes, laneLen: laneLen, segLen: segLen, passes: passes}
	for pass := uint32(0); pass < passes; pass++ {
		for slice := uint32(0); slice < argon2SyncPoints; slice++ {
			// Segments of one slice are independent (that is the point of the
			// sync points), so lanes could run in parallel; PuTTY writes
			// parallelism 1 by default, so sequential is enough here.
			for lane := uint32(0); lane < lanes; lane++ {
				f.fillSegment(pass, slice, lane)
			}
		}
	}

	// Final block C = XOR of each lane's last block, tag = H'^T(C), RFC 9106 §3.2 steps 7-8.
	c := mem[laneLen-1]
	for l := uint32(1); l < lanes; l++ {
		last := &mem[l*laneLen+laneLen-1]
		for i := range c {
			c[i] ^= last[i]
		}
	}
	for i, w := range c {
		binary.LittleEndian.PutUint64(buf[8*i:], w)
	}
	out := make([]byte, tagLen)
	argon2HPrime(out, buf[:])
	return out
}

type argon2Filler struct {
	typ                     argon2Type
	mem                     []argon2Block
	lanes, laneLen, segLen  uint32
	passes                  uint32
	zero, input, addr, temp argon2Block
}

func (f *argon2Filler) fillSegment(pass, slice, lane uint32) {
	// Argon2id uses data-independent addressing for the first half of the
	// first pass only, RFC 9106 §3.4.1.3.
	independent := f.typ == argon2i || (f.typ == argon2id && pass == 0 && slice < 2)
	if independent {
		f.input = argon2Block{}
		f.input[0] = uint64(pass)
		f.input[1] = uint64(lane)
		f.input[2] = uint64(slice)
		f.input[3] = uint64(len(f.mem))
		f.input[4] = uint64(f.passes)
		f.input[5] = uint64(f.typ)
	}
	start := uint32(0)
	if pass == 0 && slice == 0 {
		start = 2 // blocks 0 and 1 come from H'
	}
	for idx := start; idx < f.segLen; idx++ {
		col := slice*f.segLen + idx
		cur := lane*f.laneLen + col
		prev := cur - 1
		if col == 0 {
			prev = lane*f.laneLen + f.laneLen - 1
		}

		var rnd uint64
		if independent {
			// Address block k serves indexes 128(k-1) .. 128k-1 of the
			// segment, counter starting at 1, RFC 9106 §3.4.1.2.
			if idx == start || idx%argon2AddrsInBlock == 0 {
				f.input[6] = uint64(idx/argon2AddrsInBlock) + 1
				argon2G(&f.temp, &f.zero, &f.input, false)
				argon2G(&f.addr, &f.zero, &f.temp, false)
			}
			rnd = f.addr[idx%argon2AddrsInBlock]
		} else {
			rnd = f.mem[prev][0]
		}
		j1 := rnd & 0xffffffff
		j2 := rnd >> 32

		refLane := uint32(j2 % uint64(f.lanes))
		if pass == 0 && slice == 0 {
			refLane = lane
		}

		// Size of the reference set W, RFC 9106 §3.4.1.1-3.4.2.
		var area uint64
		same := refLane == lane
		switch {
		case pass == 0 && same:
			area = uint64(col) - 1
		case pass == 0:
			area = uint64(slice * f.segLen)
			if idx == 0 {
				area--
			}
		case same:
			area = uint64(f.laneLen-f.segLen) + uint64(idx) - 1
		default:
			area = uint64(f.laneLen - f.segLen)
			if idx == 0 {
				area--
			}
		}
		x := (j1 * j1) >> 32
		y := (area * x) >> 32
		rel := area - 1 - y
		var startPos uint64
		if pass != 0 && slice != argon2SyncPoints-1 {
			startPos = uint64((slice + 1) * f.segLen)
		}
		ref := refLane*f.laneLen + uint32((startPos+rel)%uint64(f.laneLen))

		// Version 0x13 XORs the new block into the old one after the first pass.
		argon2G(&f.mem[cur], &f.mem[prev], &f.mem[ref], pass > 0)
	}
}

// argon2G is the compression function G of RFC 9106 §3.5: R = X xor Y,
// permute rows then columns with P, output Z xor R (xor'ed into out when
// xorInto is set).
func argon2G(out, x, y *argon2Block, xorInto bool) {
	var r, z argon2Block
	for i := range r {
		r[i] = x[i] ^ y[i]
	}
	z = r
	// Rows: register i of row k is words 16k+2i, 16k+2i+1.
	for k := 0; k < 8; k++ {
		b := 16 * k
		argon2P(&z, b, b+1, b+2, b+3, b+4, b+5, b+6, b+7, b+8, b+9, b+10, b+11, b+12, b+13, b+14, b+15)
	}
	// Columns: register k of column i is words 16k+2i, 16k+2i+1.
	for i := 0; i < 8; i++ {
		b := 2 * i
		argon2P(&z, b, b+1, b+16, b+17, b+32, b+33, b+48, b+49, b+64, b+65, b+80, b+81, b+96, b+97, b+112, b+113)
	}
	if xorInto {
		for i := range out {
			out[i] ^= z[i] ^ r[i]
		}
	} else {
		for i := range out {
			out[i] = z[i] ^ r[i]
		}
	}
}

// argon2P is the permutation P of RFC 9106 §3.6 on the 16 words of z named
// by the indexes: the BLAKE2b round structure with GB as the mixing function.
func argon2P(z *argon2Block, i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, i10, i11, i12, i13, i14, i15 int) {
	argon2GB(z, i0, i4, i8, i12)
	argon2GB(z, i1, i5, i9, i13)
	argon2GB(z, i2, i6, i10, i14)
	argon2GB(z, i3, i7, i11, i15)
	argon2GB(z, i0, i5, i10, i15)
	argon2GB(z, i1, i6, i11, i12)
	argon2GB(z, i2, i7, i8, i13)
	argon2GB(z, i3, i4, i9, i14)
}

func argon2GB(z *argon2Block, ia, ib, ic, id int) {
	a, b, c, d := z[ia], z[ib], z[ic], z[id]
	a = blaMka(a, b)
	d = rotr64(d^a, 32)
	c = blaMka(c, d)
	b = rotr64(b^c, 24)
	a = blaMka(a, b)
	d = rotr64(d^a, 16)
	c = blaMka(c, d)
	b = rotr64(b^c, 63)
	z[ia], z[ib], z[ic], z[id] = a, b, c, d
}

// blaMka is BLAKE2b's addition with the multiplication Argon2 adds to
// harden it: a + b + 2*trunc(a)*trunc(b), RFC 9106 §3.6.
func blaMka(a, b uint64) uint64 {
	return a + b + 2*uint64(uint32(a))*uint64(uint32(b))
}

func rotr64(x uint64, n uint) uint64 { return x>>n | x<<(64-n) }

func blockFromBytes(b *argon2Block, p []byte) {
	for i := range b {
		b[i] = binary.LittleEndian.Uint64(p[8*i:])
	}
}

// argon2HPrime is the variable-length hash H' of RFC 9106 §3.3, writing
// len(out) bytes of H'(parts...).
func argon2HPrime(out []byte, parts ...[]byte) {
	var le [4]byte
	binary.LittleEndian.PutUint32(le[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		h, _ := blake2b.New(len(out), nil)
		h.Write(le[:])
		for _, p := range parts {
			h.Write(p)
		}
		h.Sum(out[:0])
		return
	}
	h, _ := blake2b.New512(nil)
	h.Write(le[:])
	for _, p := range parts {
		h.Write(p)
	}
	v := h.Sum(nil)
	copy(out, v[:32])
	pos := 32
	for len(out)-pos > blake2b.Size {
		s := blake2b.Sum512(v)
		v = s[:]
		copy(out[pos:], v[:32])
		pos += 32
	}
	last, _ := blake2b.New(len(out)-pos, nil)
	last.Write(v)
	last.Sum(out[pos:pos])
}
