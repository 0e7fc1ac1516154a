package ftpd

import (
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	for in, want := range map[string]string{
		"":                   ".",
		"/":                  ".",
		".":                  ".",
		"..":                 ".",
		"/../..":             ".",
		"/a/../../b":         "b",
		"a/b/":               "a/b",
		"//a//b":             "a/b",
		`..\..\etc\passwd`:   "etc/passwd",
		"/./a/./b/..":        "a",
		"/../other/file.pgp": "other/file.pgp",
	} {
		got, err := resolve(in)
		if err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := resolve("a\x00b"); err == nil {
		t.Error("NUL accepted")
	}
}

// FuzzResolve checks that whatever path a client sends, the name used
// under the client's os.Root is local: no "..", not absolute, clean.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "/", "..", "../../etc/passwd", `..\..\x`, "/a/./b/../../..", "a\x00b", "//", "...", "a/..../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, err := resolve(p)
		if err != nil {
			if !strings.Contains(p, "\x00") {
				t.Fatalf("resolve(%q): %v", p, err)
			}
			return
		}
		if rel != "." && !filepath.IsLocal(rel) {
			t.Fatalf("resolve(%q) = %q is not local", p, rel)
		}
		if path.Clean(rel) != rel || strings.HasPrefix(rel, "/") {
			t.Fatalf("resolve(%q) = %q is not clean and relative", p, rel)
		}
		for _, part := range strings.Split(rel, "/") {
			if part == ".." || part == "" {
				t.Fatalf("resolve(%q) = %q has %q", p, rel, part)
			}
		}
		if display(rel) != path.Clean("/"+rel) {
			t.Fatalf("display(%q) = %q", rel, display(rel))
		}
	})
}
