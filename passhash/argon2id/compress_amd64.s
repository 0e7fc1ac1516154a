//go:build amd64 && gc && !purego

#include "textflag.h"

// The compression function G of RFC 9106 §3.5–3.6 in AVX2.
//
// A block is 128 words, seen as 8 rows of 16. The permutation P runs on
// 16 words v0..v15 held in four registers a = v0..v3, b = v4..v7,
// c = v8..v11, d = v12..v15: GB on the four columns at once, then the
// registers are rotated so that the diagonals line up, GB again, and
// rotated back (the same layout as a BLAKE2b round).
//
// G(x, y): R = x ^ y; P on each row of R; P on each column (the words
// 2j, 2j+1, 2j+16, 2j+17, ..., 2j+112, 2j+113); out = result ^ R.

// VPSHUFB masks that rotate each 64-bit word right by 24 and by 16 bits.
DATA rot24<>+0x00(SB)/8, $0x0201000706050403
DATA rot24<>+0x08(SB)/8, $0x0a09080f0e0d0c0b
DATA rot24<>+0x10(SB)/8, $0x0201000706050403
DATA rot24<>+0x18(SB)/8, $0x0a09080f0e0d0c0b
GLOBL rot24<>(SB), (NOPTR+RODATA), $32

DATA rot16<>+0x00(SB)/8, $0x0100070605040302
DATA rot16<>+0x08(SB)/8, $0x09080f0e0d0c0b0a
DATA rot16<>+0x10(SB)/8, $0x0100070605040302
DATA rot16<>+0x18(SB)/8, $0x09080f0e0d0c0b0a
GLOBL rot16<>(SB), (NOPTR+RODATA), $32

// a += b + 2 × lo32(a) × lo32(b) (BlaMka's multiplication, RFC 9106 §3.6).
#define FBLAMKA(a, b, t) \
	VPMULUDQ b, a, t; \
	VPADDQ   b, a, a; \
	VPADDQ   t, t, t; \
	VPADDQ   t, a, a

// GB on four columns at once; Y12 and Y13 hold the rotation masks.
#define GB(a, b, c, d, t) \
	FBLAMKA(a, b, t); \
	VPXOR    a, d, d; \
	VPSHUFD  $0xb1, d, d; \
	FBLAMKA(c, d, t); \
	VPXOR    c, b, b; \
	VPSHUFB  Y12, b, b; \
	FBLAMKA(a, b, t); \
	VPXOR    a, d, d; \
	VPSHUFB  Y13, d, d; \
	FBLAMKA(c, d, t); \
	VPXOR    c, b, b; \
	VPADDQ   b, b, t; \
	VPSRLQ   $63, b, b; \
	VPXOR    t, b, b

// P on two independent groups of 16 words (Y0–Y3 and Y4–Y7).
#define P2 \
	GB(Y0, Y1, Y2, Y3, Y8); \
	GB(Y4, Y5, Y6, Y7, Y9); \
	VPERMQ $0x39, Y1, Y1; \
	VPERMQ $0x4e, Y2, Y2; \
	VPERMQ $0x93, Y3, Y3; \
	VPERMQ $0x39, Y5, Y5; \
	VPERMQ $0x4e, Y6, Y6; \
	VPERMQ $0x93, Y7, Y7; \
	GB(Y0, Y1, Y2, Y3, Y8); \
	GB(Y4, Y5, Y6, Y7, Y9); \
	VPERMQ $0x93, Y1, Y1; \
	VPERMQ $0x4e, Y2, Y2; \
	VPERMQ $0x39, Y3, Y3; \
	VPERMQ $0x93, Y5, Y5; \
	VPERMQ $0x4e, Y6, Y6; \
	VPERMQ $0x39, Y7, Y7

// Loads x ^ y for one 32-byte quarter of a row into r.
#define LOADXOR(off, r) \
	VMOVDQU off(SI), r; \
	VPXOR   off(DI), r, r

// Rows r and r+1 (byte offset o of row r): R = x ^ y, P, into scratch.
#define ROWS(o) \
	LOADXOR(o+0, Y0); \
	LOADXOR(o+32, Y1); \
	LOADXOR(o+64, Y2); \
	LOADXOR(o+96, Y3); \
	LOADXOR(o+128, Y4); \
	LOADXOR(o+160, Y5); \
	LOADXOR(o+192, Y6); \
	LOADXOR(o+224, Y7); \
	P2; \
	VMOVDQU Y0, o+0(BX); \
	VMOVDQU Y1, o+32(BX); \
	VMOVDQU Y2, o+64(BX); \
	VMOVDQU Y3, o+96(BX); \
	VMOVDQU Y4, o+128(BX); \
	VMOVDQU Y5, o+160(BX); \
	VMOVDQU Y6, o+192(BX); \
	VMOVDQU Y7, o+224(BX)

// The two word pairs at byte offsets o and o+128 of scratch into r.
#define LOADPAIRS(o, x, r) \
	VMOVDQU     o(BX), x; \
	VINSERTI128 $1, o+128(BX), r, r

#define STOREPAIRS(o, x, r) \
	VMOVDQU      x, o(BX); \
	VEXTRACTI128 $1, r, o+128(BX)

// Columns j and j+1 (o = 16 × j): P on each, in scratch.
#define COLUMNS(o) \
	LOADPAIRS(o+0, X0, Y0); \
	LOADPAIRS(o+256, X1, Y1); \
	LOADPAIRS(o+512, X2, Y2); \
	LOADPAIRS(o+768, X3, Y3); \
	LOADPAIRS(o+16, X4, Y4); \
	LOADPAIRS(o+272, X5, Y5); \
	LOADPAIRS(o+528, X6, Y6); \
	LOADPAIRS(o+784, X7, Y7); \
	P2; \
	STOREPAIRS(o+0, X0, Y0); \
	STOREPAIRS(o+256, X1, Y1); \
	STOREPAIRS(o+512, X2, Y2); \
	STOREPAIRS(o+768, X3, Y3); \
	STOREPAIRS(o+16, X4, Y4); \
	STOREPAIRS(o+272, X5, Y5); \
	STOREPAIRS(o+528, X6, Y6); \
	STOREPAIRS(o+784, X7, Y7)

// out = scratch ^ x ^ y for 64 bytes at o.
#define FINISH(o) \
	VMOVDQU o(BX), Y0; \
	VMOVDQU o+32(BX), Y1; \
	VPXOR   o(SI), Y0, Y0; \
	VPXOR   o+32(SI), Y1, Y1; \
	VPXOR   o(DI), Y0, Y0; \
	VPXOR   o+32(DI), Y1, Y1; \
	VMOVDQU Y0, o(DX); \
	VMOVDQU Y1, o+32(DX)

// out ^= scratch ^ x ^ y for 64 bytes at o.
#define FINISHXOR(o) \
	VMOVDQU o(BX), Y0; \
	VMOVDQU o+32(BX), Y1; \
	VPXOR   o(SI), Y0, Y0; \
	VPXOR   o+32(SI), Y1, Y1; \
	VPXOR   o(DI), Y0, Y0; \
	VPXOR   o+32(DI), Y1, Y1; \
	VPXOR   o(DX), Y0, Y0; \
	VPXOR   o+32(DX), Y1, Y1; \
	VMOVDQU Y0, o(DX); \
	VMOVDQU Y1, o+32(DX)

// func compress(out, x, y *block, xor bool)
// The 1 KiB frame is the scratch block.
TEXT ·compress(SB), 0, $1024-25
	MOVQ    out+0(FP), DX
	MOVQ    x+8(FP), SI
	MOVQ    y+16(FP), DI
	MOVBLZX xor+24(FP), CX
	LEAQ    0(SP), BX
	VMOVDQU rot24<>(SB), Y12
	VMOVDQU rot16<>(SB), Y13

	ROWS(0)
	ROWS(256)
	ROWS(512)
	ROWS(768)

	COLUMNS(0)
	COLUMNS(32)
	COLUMNS(64)
	COLUMNS(96)

	TESTQ CX, CX
	JNZ   xorout
	FINISH(0)
	FINISH(64)
	FINISH(128)
	FINISH(192)
	FINISH(256)
	FINISH(320)
	FINISH(384)
	FINISH(448)
	FINISH(512)
	FINISH(576)
	FINISH(640)
	FINISH(704)
	FINISH(768)
	FINISH(832)
	FINISH(896)
	FINISH(960)
	VZEROUPPER
	RET

xorout:
	FINISHXOR(0)
	FINISHXOR(64)
	FINISHXOR(128)
	FINISHXOR(192)
	FINISHXOR(256)
	FINISHXOR(320)
	FINISHXOR(384)
	FINISHXOR(448)
	FINISHXOR(512)
	FINISHXOR(576)
	FINISHXOR(640)
	FINISHXOR(704)
	FINISHXOR(768)
	FINISHXOR(832)
	FINISHXOR(896)
	FINISHXOR(960)
	VZEROUPPER
	RET
