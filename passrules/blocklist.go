package passrules

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"sort"
	"sync"
)

// passwordsGz is the blocklist: normalized (see Normalize), sorted, one
// entry per line, gzip-compressed. Built by ./internal/gen; see NOTICE.md.
//
//go:embed passwords.txt.gz
var passwordsGz []byte

// table is the decompressed blocklist: every entry in data, each ending at
// the next newline, starts[i] the offset of the i-th entry.
type table struct {
	data   string
	starts []uint32
}

// blocklist decompresses the embedded list once, on first use, so that
// programs that never check a password do not pay for it. The list is part
// of the build: a corrupt one is a programming error and panics.
var blocklist = sync.OnceValue(func() *table {
	zr, err := gzip.NewReader(bytes.NewReader(passwordsGz))
	if err != nil {
		panic("passrules: embedded blocklist: " + err.Error())
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		panic("passrules: embedded blocklist: " + err.Error())
	}
	t := &table{data: string(b), starts: make([]uint32, 0, bytes.Count(b, []byte{'\n'}))}
	for i, start := 0, 0; i < len(b); i++ {
		if b[i] == '\n' {
			t.starts = append(t.starts, uint32(start))
			start = i + 1
		}
	}
	return t
})

func (t *table) len() int { return len(t.starts) }

func (t *table) at(i int) string {
	end := len(t.data) // the last entry's newline ends the data
	if i+1 < len(t.starts) {
		end = int(t.starts[i+1])
	}
	return t.data[t.starts[i] : end-1]
}

// contains reports whether w, already normalized, is on the list.
func (t *table) contains(w string) bool {
	i := sort.Search(t.len(), func(i int) bool { return t.at(i) >= w })
	return i < t.len() && t.at(i) == w
}
