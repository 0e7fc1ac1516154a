package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra/doc"
)

// TestReferenceDocs: docs/slsctl/ is the generated reference of every
// command (SLS_UPDATE_DOCS=1 rewrites it).
func TestReferenceDocs(t *testing.T) {
	var code int
	root := newRoot(strings.NewReader(""), &bytes.Buffer{}, &code)
	root.DisableAutoGenTag = true
	// The defaults of the machine that generates must not leak in.
	root.PersistentFlags().Lookup("token-file").DefValue = "<user config dir>/sls/operator.token"
	dir := t.TempDir()
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("..", "..", "docs", "slsctl")
	files, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	if os.Getenv("SLS_UPDATE_DOCS") == "1" {
		os.RemoveAll(want)
		os.MkdirAll(want, 0o755)
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if err := os.WriteFile(filepath.Join(want, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	have, _ := filepath.Glob(filepath.Join(want, "*.md"))
	if len(have) != len(files) {
		t.Fatalf("docs/slsctl has %d pages, the commands %d: run SLS_UPDATE_DOCS=1 go test ./cmd/slsctl", len(have), len(files))
	}
	for _, f := range files {
		got, _ := os.ReadFile(f)
		old, err := os.ReadFile(filepath.Join(want, filepath.Base(f)))
		if err != nil || !bytes.Equal(got, old) {
			t.Errorf("docs/slsctl/%s is out of date: run SLS_UPDATE_DOCS=1 go test ./cmd/slsctl", filepath.Base(f))
		}
	}
}
