package sshkey

import (
	"encoding/binary"
	"errors"
	"math/big"
)

// wireReader reads the SSH binary encodings of RFC 4251 §5 from a blob.
// The first error sticks, so a parser can read every field and check once.
type wireReader struct {
	b   []byte
	err error
}

var errShort = errors.New("data ends in the middle of a field (truncated)")

func (r *wireReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// bytes reads an RFC 4251 "string": uint32 length, then that many bytes.
func (r *wireReader) bytes() []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < 4 {
		r.fail(errShort)
		return nil
	}
	n := binary.BigEndian.Uint32(r.b)
	if uint64(n) > uint64(len(r.b)-4) {
		r.fail(errShort)
		return nil
	}
	s := r.b[4 : 4+n]
	r.b = r.b[4+n:]
	return s
}

func (r *wireReader) string() string { return string(r.bytes()) }

// mpint reads a non-negative RFC 4251 "mpint" in its canonical form: no
// superfluous leading zero byte, zero as the empty string. Negative values
// have no meaning in any key field, so they are refused.
func (r *wireReader) mpint() *big.Int {
	b := r.bytes()
	if r.err != nil {
		return nil
	}
	if len(b) > 0 && b[0]&0x80 != 0 {
		r.fail(errors.New("negative integer in key data"))
		return nil
	}
	if len(b) > 0 && b[0] == 0 && (len(b) == 1 || b[1]&0x80 == 0) {
		r.fail(errors.New("integer in key data has a superfluous leading zero byte"))
		return nil
	}
	return new(big.Int).SetBytes(b)
}

func (r *wireReader) empty() bool { return len(r.b) == 0 }

func appendString(dst []byte, s []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}
