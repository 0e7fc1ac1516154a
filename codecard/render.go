package codecard

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLabelLen bounds the title and serial of a rendered card, in characters.
const MaxLabelLen = 100

// gridColumns is the number of index/value columns on a printed card: with
// 50 indices, 10 rows of 5 fit a wallet-sized card.
const gridColumns = 5

// grid lays the indices out column by column (1..rows down the first
// column), the way a reader scans a printed card for a number.
// cell(r, c) is the index at row r, column c, or 0 for an empty cell.
type grid struct{ rows, cols, count int }

func newGrid(count int) grid {
	cols := min(gridColumns, count)
	if cols < 1 {
		return grid{}
	}
	rows := (count + cols - 1) / cols
	// Column-major filling can leave whole columns empty (7 values in 5
	// columns of 2 rows use 4); drop them.
	cols = (count + rows - 1) / rows
	return grid{rows: rows, cols: cols, count: count}
}

func (g grid) cell(r, c int) int {
	i := c*g.rows + r + 1
	if i > g.count {
		return 0
	}
	return i
}

func checkLabels(title, serial string) error {
	for _, l := range []string{title, serial} {
		if !utf8.ValidString(l) {
			return fmt.Errorf("codecard: render: label is not UTF-8")
		}
		if n := utf8.RuneCountInString(l); n > MaxLabelLen {
			return fmt.Errorf("codecard: render: label of %d characters, more than %d", n, MaxLabelLen)
		}
	}
	return nil
}

// cleanLabel replaces control characters, which would break the layout of
// the text and PNG renderings, with spaces.
func cleanLabel(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
}

// RenderText renders the card as a monospace grid for a terminal or a plain
// text printout. It renders whatever the card holds, even an invalid card.
func RenderText(card Card, title, serial string) string {
	var b strings.Builder
	if t := cleanLabel(title); t != "" {
		b.WriteString(t + "\n")
	}
	if s := cleanLabel(serial); s != "" {
		b.WriteString("Serial: " + s + "\n")
	}
	g := newGrid(card.Len())
	idxW := len(strconv.Itoa(card.Len()))
	valW := 0
	for _, v := range card.Values {
		valW = max(valW, utf8.RuneCountInString(v))
	}
	cellW := 1 + idxW + 2 + valW + 1
	sep := "+" + strings.Repeat(strings.Repeat("-", cellW)+"+", g.cols) + "\n"
	if g.cols > 0 {
		b.WriteString(sep)
	}
	for r := range g.rows {
		b.WriteString("|")
		for c := range g.cols {
			if i := g.cell(r, c); i > 0 {
				fmt.Fprintf(&b, " %*d  %-*s |", idxW, i, valW, cleanLabel(card.Values[i-1]))
			} else {
				b.WriteString(strings.Repeat(" ", cellW) + "|")
			}
		}
		b.WriteString("\n")
	}
	if g.cols > 0 {
		b.WriteString(sep)
	}
	return b.String()
}

type htmlCell struct {
	Col   int
	Index int // 0 for an empty cell
	Value string
}

type htmlData struct {
	Title, Serial string
	Cols          []int
	Rows          [][]htmlCell
}

// The page must print on its own: inline CSS, no scripts, no fonts or
// images fetched. Each value cell names its index and column headers with
// headers= so a screen reader says "index 12, code K7M".
var htmlPage = template.Must(template.New("card").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}{{with .Serial}} – {{.}}{{end}}</title>
<style>
@page { margin: 12mm; }
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #000; background: #fff; margin: 2rem; }
.card { display: inline-block; border: 2px solid #000; border-radius: 10px; padding: 1rem 1.25rem; }
h1 { font-size: 1.25rem; margin: 0 0 .25rem; }
.serial { margin: 0 0 .75rem; font-size: .9rem; }
table { border-collapse: collapse; }
caption { text-align: left; font-size: .8rem; padding-bottom: .4rem; }
th, td { border: 1px solid #000; padding: .3rem .55rem; }
thead th { font-size: .75rem; font-weight: 600; }
tbody th { font-weight: normal; text-align: right; background: #eee; font-variant-numeric: tabular-nums; }
td { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 1.2rem; font-weight: 700; letter-spacing: .12em; }
@media print {
  body { margin: 0; }
  tbody th { background: none; }
  .card { break-inside: avoid; }
}
</style>
</head>
<body>
<main class="card">
<h1>{{.Title}}</h1>
{{with .Serial}}<p class="serial">Serial number: <strong>{{.}}</strong></p>
{{end}}<table>
<caption>Security codes by index number. Keep this card private.</caption>
<thead>
<tr>{{range .Cols}}<th scope="col" id="hi{{.}}">Index</th><th scope="col" id="hv{{.}}">Code</th>{{end}}</tr>
</thead>
<tbody>
{{range .Rows}}<tr>{{range .}}{{if .Index}}<th scope="row" id="n{{.Index}}" headers="hi{{.Col}}">{{.Index}}</th><td headers="hv{{.Col}} n{{.Index}}">{{.Value}}</td>{{else}}<td></td><td></td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table>
</main>
</body>
</html>
`))

// RenderHTML writes a self-contained printable HTML page of the card.
func RenderHTML(w io.Writer, card Card, title, serial string) error {
	if err := card.Validate(); err != nil {
		return fmt.Errorf("codecard: render HTML: %w", err)
	}
	if err := checkLabels(title, serial); err != nil {
		return err
	}
	g := newGrid(card.Len())
	d := htmlData{Title: title, Serial: serial}
	for c := range g.cols {
		d.Cols = append(d.Cols, c+1)
	}
	for r := range g.rows {
		row := make([]htmlCell, g.cols)
		for c := range g.cols {
			row[c].Col = c + 1
			if i := g.cell(r, c); i > 0 {
				row[c].Index, row[c].Value = i, card.Values[i-1]
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if err := htmlPage.Execute(w, d); err != nil {
		return fmt.Errorf("codecard: render HTML: %w", err)
	}
	return nil
}
