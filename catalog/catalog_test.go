package catalog

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"l/active.en.toml":      {Data: []byte("\"login.title\" = \"Log in\"\n\n[\"login.help\"]\ndescription = \"for translators\"\nother = \"Call %s\"\n")},
		"l/active.zh-Hans.toml": {Data: []byte("\"login.title\" = \"登录\"\n")},
		"l/notes.txt":           {Data: []byte("ignored")},
	}
	c, err := Load(fsys, "l")
	if err != nil {
		t.Fatal(err)
	}
	if c["en"]["login.title"] != "Log in" || c["en"]["login.help"] != "Call %s" || c["zh-Hans"]["login.title"] != "登录" || len(c) != 2 {
		t.Fatalf("loaded %v", c)
	}
}

// TestLoadRefuses: a broken file stops the load and says which file (and
// where, for TOML syntax).
func TestLoadRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"syntax":      {map[string]string{"l/active.en.toml": "\"a\" = \"x\"\n\"b\" = \"unterminated\n"}, []string{"active.en.toml", "line 2"}},
		"no text":     {map[string]string{"l/active.en.toml": "[\"a\"]\ndescription = \"d\"\n"}, []string{"active.en.toml", `"a"`}},
		"no language": {map[string]string{"l/active.toml.toml": "\"a\" = \"x\"\n"}, []string{"active.toml.toml"}},
		"nothing":     {map[string]string{"l/readme.md": "x"}, []string{"no active"}},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for p, d := range tc.files {
				fsys[p] = &fstest.MapFile{Data: []byte(d)}
			}
			_, err := Load(fsys, "l")
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// FuzzParse: any bytes are refused or give messages with text; nothing
// panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"\"a\" = \"x\"\n", "[\"a\"]\nother = \"y\"\n", "a = [1,2]", "[[x]]", "\"a\" = \"\\u0000\"", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, msgs, err := Parse("active.en.toml", raw)
		if err != nil {
			return
		}
		for id, s := range msgs {
			if s == "" {
				t.Fatalf("%q without text accepted", id)
			}
		}
	})
}
