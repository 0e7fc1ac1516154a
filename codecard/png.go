package codecard

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Parsed fonts are safe for concurrent use; faces are not, so each
// rendering makes its own.
var fonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	reg, err := opentype.Parse(gomono.TTF)
	if err != nil {
		return [2]*opentype.Font{}, err
	}
	bold, err := opentype.Parse(gomonobold.TTF)
	return [2]*opentype.Font{reg, bold}, err
})

// Sizes in pixels. A 5×10 card of 3-character values comes out about 890
// pixels wide: 7.5 cm at 300 dpi, the size of a bank card, with values large
// enough to read without glasses.
const (
	pngMargin   = 48
	pngTitlePx  = 40
	pngSerialPx = 26
	pngIndexPx  = 28
	pngValuePx  = 40
	pngPadX     = 18
	pngGap      = 16
	pngRowH     = 64
)

// RenderPNG draws the card as a grey-scale PNG image for printing.
func RenderPNG(w io.Writer, card Card, title, serial string) error {
	if err := card.Validate(); err != nil {
		return fmt.Errorf("codecard: render PNG: %w", err)
	}
	if err := checkLabels(title, serial); err != nil {
		return err
	}
	title, serial = cleanLabel(title), cleanLabel(serial)
	if serial != "" {
		serial = "Serial: " + serial
	}
	fs, err := fonts()
	if err != nil {
		return fmt.Errorf("codecard: render PNG: font: %w", err)
	}
	newFace := func(f *opentype.Font, px float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	}
	var faces [4]font.Face
	for i, spec := range []struct {
		f  *opentype.Font
		px float64
	}{{fs[1], pngTitlePx}, {fs[0], pngSerialPx}, {fs[0], pngIndexPx}, {fs[1], pngValuePx}} {
		if faces[i], err = newFace(spec.f, spec.px); err != nil {
			return fmt.Errorf("codecard: render PNG: face: %w", err)
		}
		defer faces[i].Close()
	}
	titleFace, serialFace, indexFace, valueFace := faces[0], faces[1], faces[2], faces[3]

	g := newGrid(card.Len())
	idxW := font.MeasureString(indexFace, strings.Repeat("0", len(strconv.Itoa(card.Len())))).Ceil()
	valW := font.MeasureString(valueFace, strings.Repeat("W", len(card.Values[0]))).Ceil()
	cellW := pngPadX + idxW + pngGap + valW + pngPadX
	gridW := g.cols * cellW
	gridH := g.rows * pngRowH

	width := max(gridW, font.MeasureString(titleFace, title).Ceil(),
		font.MeasureString(serialFace, serial).Ceil()) + 2*pngMargin
	y := pngMargin
	titleBase, serialBase := 0, 0
	if title != "" {
		y += pngTitlePx
		titleBase = y
		y += pngTitlePx / 3
	}
	if serial != "" {
		y += pngSerialPx
		serialBase = y
		y += pngSerialPx / 2
	}
	gridTop := y + pngSerialPx/2
	height := gridTop + gridH + pngMargin

	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(face font.Face, s string, x, base int, col color.Gray) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(col), Face: face, Dot: fixed.P(x, base)}
		d.DrawString(s)
	}
	black, grey := color.Gray{0}, color.Gray{0x55}
	if title != "" {
		text(titleFace, title, pngMargin, titleBase, black)
	}
	if serial != "" {
		text(serialFace, serial, pngMargin, serialBase, black)
	}

	// Shaded index columns, then the rules, then the text on top.
	left := pngMargin
	for c := range g.cols {
		x := left + c*cellW
		fill(img, x, gridTop, x+pngPadX+idxW+pngGap/2, gridTop+gridH, color.Gray{0xe8})
	}
	for r := 0; r <= g.rows; r++ {
		yy := gridTop + r*pngRowH
		fill(img, left, yy, left+gridW+1, yy+1, black)
	}
	for c := 0; c <= g.cols; c++ {
		xx := left + c*cellW
		fill(img, xx, gridTop, xx+1, gridTop+gridH, black)
	}
	// Outer frame drawn thicker so a cut-out card keeps a clear edge.
	for _, r := range []image.Rectangle{
		image.Rect(left-2, gridTop-2, left+gridW+3, gridTop),
		image.Rect(left-2, gridTop+gridH, left+gridW+3, gridTop+gridH+3),
		image.Rect(left-2, gridTop, left, gridTop+gridH),
		image.Rect(left+gridW+1, gridTop, left+gridW+3, gridTop+gridH),
	} {
		fill(img, r.Min.X, r.Min.Y, r.Max.X, r.Max.Y, black)
	}
	for r := range g.rows {
		base := gridTop + r*pngRowH + pngRowH/2 + pngValuePx*3/8
		for c := range g.cols {
			i := g.cell(r, c)
			if i == 0 {
				continue
			}
			x := left + c*cellW + pngPadX
			num := strconv.Itoa(i)
			nw := font.MeasureString(indexFace, num).Ceil()
			text(indexFace, num, x+idxW-nw, base, grey)
			text(valueFace, card.Values[i-1], x+idxW+pngGap, base, black)
		}
	}

	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("codecard: render PNG: %w", err)
	}
	return nil
}

func fill(img *image.Gray, x0, y0, x1, y1 int, c color.Gray) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
}
