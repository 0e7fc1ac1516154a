package diagnostics

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
)

type entry struct {
	name string
	body []byte
}

func makeZip(t testing.TB, entries ...entry) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func makeTarGz(t testing.TB, entries ...entry) []byte {
	var b bytes.Buffer
	gw := gzip.NewWriter(&b)
	tw := tar.NewWriter(gw)
	for _, e := range entries {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg})
		tw.Write(e.body)
	}
	tw.Close()
	gw.Close()
	return b.Bytes()
}

// PNG returns a small PNG of w × h pixels.
func PNG(t testing.TB, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func reasonOf(err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		r, _ := e.Detail["reason"].(string)
		return r
	}
	return "not an sls.Error: " + err.Error()
}

func TestInspect(t *testing.T) {
	logs := []byte(strings.Repeat("2026-12-05 17:00:01 INFO connected to gateway\n", 40))
	lim := ArchiveLimits{MaxEntries: 10, MaxUncompressed: 4 << 20, MaxRatio: 100}
	bomb := make([]byte, 8<<20) // zeros deflate about 1000 to 1
	many := make([]entry, 11)
	for i := range many {
		many[i] = entry{name: "f" + string(rune('a'+i)), body: []byte("x")}
	}
	for _, tc := range []struct {
		name, reason string
		archive      []byte
		lim          ArchiveLimits
	}{
		{"zip", "", makeZip(t, entry{"tws/log.txt", logs}, entry{"tws/", nil}, entry{"settings.xml", []byte("<a/>")}), lim},
		{"tar.gz", "", makeTarGz(t, entry{"tws/log.txt", logs}), lim},
		{"not an archive", ReasonWrongType, []byte("%PDF-1.7 this is a PDF, whatever its name"), lim},
		{"too short", ReasonWrongType, []byte("PK"), lim},
		{"truncated zip", ReasonMalformed, makeZip(t, entry{"a.txt", logs})[:60], lim},
		{"empty zip", ReasonWrongType, makeZip(t), lim}, // an empty zip starts with PK\x05\x06
		{"dot dot", ReasonUnsafeName, makeZip(t, entry{"../../etc/cron.d/x", logs}), lim},
		{"dot dot inside", ReasonUnsafeName, makeZip(t, entry{"logs/../../x", logs}), lim},
		{"absolute", ReasonUnsafeName, makeZip(t, entry{"/etc/passwd", logs}), lim},
		{"backslash", ReasonUnsafeName, makeZip(t, entry{`..\..\windows\x.dll`, logs}), lim},
		{"drive", ReasonUnsafeName, makeZip(t, entry{"C:/x", logs}), lim},
		{"nul", ReasonUnsafeName, makeZip(t, entry{"a\x00.txt", logs}), lim},
		{"tar dot dot", ReasonUnsafeName, makeTarGz(t, entry{"../x", logs}), lim},
		{"too many entries", ReasonTooManyEntries, makeZip(t, many...), lim},
		{"same name twice", ReasonUnsafeName, makeZip(t, entry{"a.log", logs}, entry{"a.log", []byte("other")}), lim},
		{"zip bomb ratio", ReasonRatio, makeZip(t, entry{"zeros", bomb[:2<<20]}), lim},
		{"small and repetitive", "", makeZip(t, entry{"same.log", bomb[:512<<10]}), lim},
		{"zip bomb size", ReasonUncompressed, makeZip(t, entry{"zeros", bomb}), lim},
		{"tar bomb", ReasonUncompressed, makeTarGz(t, entry{"zeros", bomb}), lim},
		{"tar bomb ratio", ReasonRatio, makeTarGz(t, entry{"zeros", bomb[:2<<20]}), lim},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Inspect(bytes.NewReader(tc.archive), int64(len(tc.archive)), tc.lim)
			if tc.reason == "" {
				if err != nil || a.Entries == 0 {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || reasonOf(err) != tc.reason {
				t.Fatalf("got %+v, %v; want reason %s", a, err, tc.reason)
			}
		})
	}
}

// TestInspectLyingZip: a central directory that declares a small size
// for a large entry is caught while reading, not trusted.
func TestInspectLyingZip(t *testing.T) {
	body := bytes.Repeat([]byte("abcdefgh"), 1000)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "x", Method: zip.Store, CompressedSize64: 8000, UncompressedSize64: 100, CRC32: 0})
	w.Write(body)
	zw.Close()
	if _, err := Inspect(bytes.NewReader(b.Bytes()), int64(b.Len()), DefaultArchiveLimits); err == nil {
		t.Fatal("a zip whose sizes lie was accepted")
	}
}

func TestCheckImage(t *testing.T) {
	if ext, err := CheckImage(bytes.NewReader(PNG(t, 20, 10))); err != nil || ext != "png" {
		t.Fatalf("png: %s %v", ext, err)
	}
	if _, err := CheckImage(strings.NewReader("GIF89a....")); reasonOf(err) != ReasonWrongType {
		t.Fatalf("gif: %v", err)
	}
	// A PNG header that declares 100,000 × 100,000 pixels.
	huge := PNG(t, 1, 1)
	copy(huge[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	if _, err := CheckImage(bytes.NewReader(huge)); err == nil {
		t.Fatal("a 10-gigapixel PNG was accepted")
	}
}

func TestRef(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		r, err := sls.NewDiagnosticRef(cryptoRand{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[r] || len(r) != 11 || !strings.HasPrefix(r, "D-") || r[6] != '-' {
			t.Fatalf("ref %q", r)
		}
		seen[r] = true
		if got, ok := sls.ParseDiagnosticRef(strings.ToLower(strings.ReplaceAll(r, "-", ""))); !ok || got != r {
			t.Fatalf("parse %q: %q %v", r, got, ok)
		}
	}
	if got, ok := sls.ParseDiagnosticRef("DBCD1234"); !ok || got != "D-DBCD-1234" {
		t.Fatalf("a body starting with D, typed alone: %q %v", got, ok)
	}
	if got, ok := sls.ParseDiagnosticRef("d-oil0-abcd"); !ok || got != "D-0110-ABCD" {
		t.Fatalf("crockford decoding: %q %v", got, ok)
	}
	for _, bad := range []string{"", "D-ABCD", "D-ABCD-EFGU", "../../etc", "D-ABCD-EFGH-1"} {
		if _, ok := sls.ParseDiagnosticRef(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzInspect: whatever the bytes, the inspector answers (no panic, no
// unbounded work) and never accepts an unsafe name.
func FuzzInspect(f *testing.F) {
	f.Add(makeZip(f, entry{"a/b.txt", []byte("hello hello hello")}))
	f.Add(makeZip(f, entry{"../x", []byte("x")}))
	f.Add(makeTarGz(f, entry{"a.txt", []byte("hello")}))
	f.Add([]byte("PK\x03\x04garbage"))
	lim := ArchiveLimits{MaxEntries: 50, MaxUncompressed: 1 << 20, MaxRatio: 100}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Inspect(bytes.NewReader(b), int64(len(b)), lim)
		if err != nil {
			var e *sls.Error
			if !errors.As(err, &e) || e.Detail["reason"] == nil {
				t.Fatalf("a refusal without a stable reason: %v", err)
			}
			return
		}
		if a.Entries < 1 || a.Entries > lim.MaxEntries || a.UncompressedBytes > lim.MaxUncompressed {
			t.Fatalf("accepted out of bounds: %+v", a)
		}
		if a.Kind == "zip" {
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
				t.Fatalf("accepted an unreadable zip: %v", err)
			}
			for _, f := range zr.File {
				if CheckName(f.Name) != nil {
					t.Fatalf("accepted unsafe name %q", f.Name)
				}
			}
		}
	})
}

type cryptoRand struct{}

func (cryptoRand) Read(b []byte) (int, error) { return rand.Read(b) }
