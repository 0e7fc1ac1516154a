package diagnostics_test

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

func pngOf(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
