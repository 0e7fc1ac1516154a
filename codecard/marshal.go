package codecard

import (
	"encoding/binary"
	"fmt"
)

// formatV1 is the first byte of a version-1 encoding:
//
//	version (1) | value length L (1) | count N (2, big-endian) | N×L value bytes
//
// The card's kind and alphabet are not stored: the device row knows the
// kind, and checking needs only the values.
const formatV1 = 1

const headerLen = 4

// Marshal encodes a valid card compactly. The bytes are the card's secret:
// the caller seals them before storing.
func Marshal(c Card) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("codecard: marshal: %w", err)
	}
	l := len(c.Values[0])
	b := make([]byte, headerLen, headerLen+l*len(c.Values))
	b[0] = formatV1
	b[1] = byte(l)
	binary.BigEndian.PutUint16(b[2:4], uint16(len(c.Values)))
	for _, v := range c.Values {
		b = append(b, v...)
	}
	return b, nil
}

// Unmarshal decodes what Marshal produced, refusing anything else: unknown
// version, sizes out of range, trailing or missing bytes, characters a card
// cannot hold.
func Unmarshal(b []byte) (Card, error) {
	if len(b) < headerLen {
		return Card{}, fmt.Errorf("codecard: unmarshal: %d bytes, shorter than the header", len(b))
	}
	if b[0] != formatV1 {
		return Card{}, fmt.Errorf("codecard: unmarshal: unknown version %d", b[0])
	}
	l := int(b[1])
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if l < 1 || l > MaxLength {
		return Card{}, fmt.Errorf("codecard: unmarshal: value length %d, want 1 to %d", l, MaxLength)
	}
	if n < MinCount || n > MaxCount {
		return Card{}, fmt.Errorf("codecard: unmarshal: count %d, want %d to %d", n, MinCount, MaxCount)
	}
	if want := headerLen + n*l; len(b) != want {
		return Card{}, fmt.Errorf("codecard: unmarshal: %d bytes, want %d", len(b), want)
	}
	c := Card{Values: make([]string, n)}
	body := b[headerLen:]
	for i := range c.Values {
		c.Values[i] = string(body[i*l : (i+1)*l])
	}
	if err := c.Validate(); err != nil {
		return Card{}, fmt.Errorf("codecard: unmarshal: %w", err)
	}
	return c, nil
}
