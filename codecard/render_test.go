package codecard

import (
	"bytes"
	"image"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestRenderText(t *testing.T) {
	c, _ := SecurityCodeCard.Generate(seeded(4))
	out := RenderText(c, "Security Code Card", "SCC-0001\n2345")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if lines[0] != "Security Code Card" || lines[1] != "Serial: SCC-0001 2345" {
		t.Fatalf("header lines %q", lines[:2])
	}
	grid := lines[2:]
	if len(grid) != 10+2 {
		t.Fatalf("%d grid lines, want 12:\n%s", len(grid), out)
	}
	for _, l := range grid {
		if len(l) != len(grid[0]) {
			t.Fatalf("ragged grid:\n%s", out)
		}
	}
	// Column-major: row 1 holds indices 1, 11, 21, 31, 41.
	fields := strings.Fields(strings.ReplaceAll(grid[1], "|", " "))
	want := []string{"1", c.Values[0], "11", c.Values[10], "21", c.Values[20], "31", c.Values[30], "41", c.Values[40]}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Fatalf("first row %q, want %q", fields, want)
	}
	for i, v := range c.Values {
		if !regexp.MustCompile(`\b` + strconv.Itoa(i+1) + `  ` + v + ` `).MatchString(out) {
			t.Errorf("index %d value %s not in:\n%s", i+1, v, out)
		}
	}
	t.Logf("\n%s", out)

	// Uneven count: empty cells keep the grid rectangular.
	odd := RenderText(Card{Values: []string{"AA", "BB", "CC", "DD", "EE", "FF", "GG"}}, "", "")
	rows := strings.Split(strings.TrimSuffix(odd, "\n"), "\n")
	for _, l := range rows {
		if len(l) != len(rows[0]) {
			t.Fatalf("ragged grid:\n%s", odd)
		}
	}
	if RenderText(Card{}, "", "") != "" {
		t.Fatal("empty card renders something")
	}
}

func TestRenderHTML(t *testing.T) {
	c, _ := OnlineCard.Generate(seeded(5))
	var b bytes.Buffer
	if err := RenderHTML(&b, c, `Online Security Code Card <script>alert(1)</script>`, "OSC-77"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for i, v := range c.Values {
		cell := `<td headers="hv` + strconv.Itoa(i/10+1) + ` n` + strconv.Itoa(i+1) + `">` + v + `</td>`
		if !strings.Contains(page, cell) {
			t.Errorf("value %d (%s) missing: %s", i+1, v, cell)
		}
		if !strings.Contains(page, `<th scope="row" id="n`+strconv.Itoa(i+1)+`"`) {
			t.Errorf("row header for index %d missing", i+1)
		}
	}
	for _, must := range []string{"<!DOCTYPE html>", `<html lang="en">`, "<style>", "<caption>", `<th scope="col"`, "OSC-77",
		"&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(page, must) {
			t.Errorf("page lacks %q", must)
		}
	}
	for _, mustNot := range []string{"<script>", "src=", "href=", "url(", "@import", "http:", "https:"} {
		if strings.Contains(page, mustNot) {
			t.Errorf("page has %q (must be self-contained and escaped)", mustNot)
		}
	}
	if strings.Count(page, "<tr>") != 11 {
		t.Errorf("%d table rows, want 11", strings.Count(page, "<tr>"))
	}

	if err := RenderHTML(&b, Card{Values: []string{"A"}}, "", ""); err == nil {
		t.Error("invalid card rendered")
	}
	if err := RenderHTML(&b, c, strings.Repeat("x", MaxLabelLen+1), ""); err == nil {
		t.Error("over-long title rendered")
	}
	if err := RenderHTML(&b, c, "", "\xff"); err == nil {
		t.Error("non-UTF-8 serial rendered")
	}
}

func TestRenderPNG(t *testing.T) {
	for _, tt := range []struct {
		preset        Preset
		title, serial string
	}{
		{SecurityCodeCard, "Security Code Card", "SCC 0001-2345"},
		{OnlineCard, "Online Security Code Card", ""},
		{OnlineCard, "", ""},
		{SecurityCodeCard, strings.Repeat("W", MaxLabelLen), "Zürich\tbranch"},
	} {
		c, _ := tt.preset.Generate(seeded(6))
		var b bytes.Buffer
		if err := RenderPNG(&b, c, tt.title, tt.serial); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		sz := img.Bounds().Size()
		t.Logf("%q: %dx%d, %d bytes", tt.title, sz.X, sz.Y, b.Len())
		if sz.X < 600 || sz.X > 4000 || sz.Y < 500 || sz.Y > 2000 {
			t.Errorf("size %v", sz)
		}
		if sz.Y > sz.X {
			t.Errorf("portrait card %v", sz)
		}
		dark := darkFraction(img)
		if dark < 0.03 || dark > 0.5 {
			t.Errorf("dark pixel fraction %.3f", dark)
		}
	}
	var b bytes.Buffer
	if err := RenderPNG(&b, Card{}, "", ""); err == nil {
		t.Error("invalid card rendered")
	}
	if err := RenderPNG(&b, Card{Values: []string{"AB", "CD"}}, strings.Repeat("x", MaxLabelLen+1), ""); err == nil {
		t.Error("over-long title rendered")
	}
}

func darkFraction(img image.Image) float64 {
	r := img.Bounds()
	dark := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if l, _, _, _ := img.At(x, y).RGBA(); l < 0x8000 {
				dark++
			}
		}
	}
	return float64(dark) / float64(r.Dx()*r.Dy())
}

func TestGridShape(t *testing.T) {
	for _, tt := range []struct{ count, rows, cols int }{
		{2, 1, 2}, {5, 1, 5}, {6, 2, 3}, {7, 2, 4}, {50, 10, 5}, {51, 11, 5}, {999, 200, 5},
	} {
		g := newGrid(tt.count)
		if g.rows != tt.rows || g.cols != tt.cols {
			t.Errorf("newGrid(%d) = %d×%d, want %d×%d", tt.count, g.rows, g.cols, tt.rows, tt.cols)
		}
		seen := map[int]bool{}
		for r := range g.rows {
			for c := range g.cols {
				if i := g.cell(r, c); i != 0 {
					seen[i] = true
				}
			}
		}
		if len(seen) != tt.count {
			t.Errorf("newGrid(%d) shows %d indices", tt.count, len(seen))
		}
	}
}
