package diagnostics

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"unicode/utf8"

	sls "github.com/secure-login-system/sls"
)

// Stable codes of refusals, in Detail["reason"] of the error (the error's
// code is invalid_argument, body_too_large or rate_limited).
const (
	ReasonTooLarge        = "too_large"         // the request or a part is over its cap
	ReasonWrongType       = "wrong_type"        // the content is not what the part must be (magic bytes)
	ReasonMalformed       = "malformed_archive" // the archive cannot be read
	ReasonTooManyEntries  = "too_many_entries"  // more entries than MaxEntries
	ReasonUncompressed    = "uncompressed_too_large"
	ReasonRatio           = "compression_ratio" // an entry or the whole compresses too well: a bomb
	ReasonUnsafeName      = "unsafe_entry_name" // absolute path, "..", backslash, NUL, bad UTF-8
	ReasonEntryType       = "unsupported_entry" // links, devices, encrypted entries
	ReasonImageDimensions = "image_too_large"   // a screenshot declares too many pixels
	ReasonMissing         = "missing_part"      // no archive, or no username
	ReasonTooManyParts    = "too_many_parts"    // more screenshots or parts than allowed
	ReasonFlood           = "too_many_uploads"  // the per-username cap
	ReasonBadField        = "bad_field"         // reason/username too long or not text
)

// ArchiveLimits bound what an archive may hold. Sizes are checked on the
// central directory (zip) or while streaming (tar.gz) and never by
// extracting to disk (OWASP ASVS 4.0.3 V12.1.2: check compressed files
// against a maximum uncompressed size and a maximum number of files).
type ArchiveLimits struct {
	MaxEntries      int
	MaxUncompressed int64
	// MaxRatio bounds uncompressed/compressed, per entry and overall.
	MaxRatio int64
}

// DefaultArchiveLimits: a platform's log folder holds a few dozen to a
// few hundred files (days of logs, settings, a thread dump); text
// compresses 5–20×, so 100× leaves room for repetitive logs while a
// deflate bomb (1000× and more) is refused; 512 MiB uncompressed is far
// above a week of verbose logs.
var DefaultArchiveLimits = ArchiveLimits{MaxEntries: 2000, MaxUncompressed: 512 << 20, MaxRatio: 100}

// Archive is what the inspection of an archive found.
type Archive struct {
	Kind              string // "zip" or "tar.gz"
	Entries           int
	UncompressedBytes int64
}

func refuse(reason, format string, args ...any) *sls.Error {
	return sls.Errorf(sls.CodeInvalidArgument, format, args...).WithDetail("reason", reason)
}

var (
	zipMagic  = []byte("PK\x03\x04")
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// Inspect checks an archive of size bytes read from r and says what it
// is. It decides the kind from the magic bytes, never a file name (ASVS
// V12.2.1). A refusal is an *sls.Error with Detail["reason"].
func Inspect(r io.ReaderAt, size int64, lim ArchiveLimits) (*Archive, error) {
	head := make([]byte, 4)
	if n, _ := r.ReadAt(head, 0); n < 4 {
		return nil, refuse(ReasonWrongType, "The logs archive is empty or too short to be a zip or tar.gz file.")
	}
	switch {
	case bytes.HasPrefix(head, zipMagic):
		return inspectZip(r, size, lim)
	case bytes.HasPrefix(head, gzipMagic):
		return inspectTarGz(io.NewSectionReader(r, 0, size), size, lim)
	}
	return nil, refuse(ReasonWrongType, "The logs archive must be a zip or tar.gz file (its content is neither).")
}

// CheckName refuses an entry name that would escape or confuse whoever
// extracts the archive later (ASVS V12.3.1/V12.3.2: user-supplied paths):
// absolute paths, drive letters, "..", backslashes, NUL and other
// control characters, bad UTF-8.
func CheckName(name string) error {
	bad := func(why string) error {
		return refuse(ReasonUnsafeName, "The archive holds an entry whose name %s; such a bundle is refused.", why).WithDetail("entry", safeName(name))
	}
	switch {
	case name == "":
		return bad("is empty")
	case !utf8.ValidString(name):
		return bad("is not UTF-8")
	case strings.ContainsRune(name, '\\'):
		return bad("holds a backslash")
	case strings.HasPrefix(name, "/"):
		return bad("is an absolute path")
	case len(name) >= 2 && name[1] == ':':
		return bad("starts with a drive letter")
	case len(name) > 1024:
		return bad("is over 1024 bytes")
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return bad("holds a control character")
		}
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return bad(`holds ".."`)
		}
	}
	return nil
}

// safeName is a name fit for an error message: quoted, bounded.
func safeName(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return fmt.Sprintf("%q", s)
}

func inspectZip(r io.ReaderAt, size int64, lim ArchiveLimits) (*Archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, refuse(ReasonMalformed, "The logs archive is not a readable zip file.")
	}
	if len(zr.File) == 0 {
		return nil, refuse(ReasonMalformed, "The logs archive holds no file.")
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, refuse(ReasonTooManyEntries, "The logs archive holds %d entries; at most %d are accepted.", len(zr.File), lim.MaxEntries)
	}
	a := &Archive{Kind: "zip", Entries: len(zr.File)}
	var compressed int64
	names := make(map[string]bool, len(zr.File))
	for _, f := range zr.File {
		if err := CheckName(f.Name); err != nil {
			return nil, err
		}
		// Two entries of one name: which one an extractor keeps is up to
		// the extractor, so what an operator reads may not be what was
		// inspected.
		if names[f.Name] {
			return nil, refuse(ReasonUnsafeName, "The archive holds two entries named %s; such a bundle is refused.", safeName(f.Name)).WithDetail("entry", safeName(f.Name))
		}
		names[f.Name] = true
		mode := f.Mode()
		if !mode.IsRegular() && !mode.IsDir() {
			return nil, refuse(ReasonEntryType, "The logs archive holds an entry that is not a file or folder (%s).", safeName(f.Name))
		}
		if f.Flags&0x1 != 0 {
			return nil, refuse(ReasonEntryType, "The logs archive holds an encrypted entry (%s); it could not be read.", safeName(f.Name))
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return nil, refuse(ReasonEntryType, "The logs archive uses a compression method other than deflate (%s).", safeName(f.Name))
		}
		// The central directory's sizes are only claims; they are checked
		// here and then held to while reading (below).
		if f.UncompressedSize64 > uint64(lim.MaxUncompressed) || f.CompressedSize64 > uint64(size) {
			return nil, refuse(ReasonUncompressed, "The logs archive would expand beyond %d MiB.", lim.MaxUncompressed>>20)
		}
		if err := ratio(int64(f.UncompressedSize64), int64(f.CompressedSize64), lim); err != nil {
			return nil, err
		}
		a.UncompressedBytes += int64(f.UncompressedSize64)
		compressed += int64(f.CompressedSize64)
		if a.UncompressedBytes > lim.MaxUncompressed {
			return nil, refuse(ReasonUncompressed, "The logs archive would expand beyond %d MiB.", lim.MaxUncompressed>>20)
		}
	}
	if err := ratio(a.UncompressedBytes, compressed, lim); err != nil {
		return nil, err
	}
	// Reading every entry (into io.Discard, never to disk) proves the
	// declared sizes and checksums true: archive/zip fails an entry that
	// yields more or less than its declared size, so the total read is
	// bounded by the caps just checked.
	for _, f := range zr.File {
		if f.Mode().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, refuse(ReasonMalformed, "The logs archive is not a readable zip file (%s).", safeName(f.Name))
		}
		_, err = io.Copy(io.Discard, io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, refuse(ReasonMalformed, "The logs archive is damaged (%s).", safeName(f.Name))
		}
	}
	return a, nil
}

// ratioFloor is the size below which the ratio is not held against an
// entry (or archive): a small file that compresses well (a log of
// repeated lines, a tar's zero padding) harms no one, while a bomb is
// large by definition and is caught above it.
const ratioFloor = 1 << 20

// ratio refuses an entry (or archive) over ratioFloor that expands more
// than MaxRatio times; something from nothing is refused as well.
func ratio(uncompressed, compressed int64, lim ArchiveLimits) error {
	if uncompressed <= ratioFloor {
		return nil
	}
	if compressed <= 0 || uncompressed/compressed > lim.MaxRatio {
		return refuse(ReasonRatio, "The logs archive compresses more than %d to 1; it looks like an archive bomb and is refused.", lim.MaxRatio)
	}
	return nil
}

// inspectTarGz streams the archive once, counting what the gzip stream
// yields so that a bomb is stopped at the cap, not after it.
func inspectTarGz(r io.Reader, size int64, lim ArchiveLimits) (*Archive, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, refuse(ReasonMalformed, "The logs archive is not a readable tar.gz file.")
	}
	gz.Multistream(false)
	capped := &countingReader{r: gz, max: lim.MaxUncompressed + 1024} // tar headers and padding on top of the content
	tr := tar.NewReader(capped)
	a := &Archive{Kind: "tar.gz"}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if capped.over {
			return nil, refuse(ReasonUncompressed, "The logs archive would expand beyond %d MiB.", lim.MaxUncompressed>>20)
		}
		if err != nil {
			return nil, refuse(ReasonMalformed, "The logs archive is not a readable tar.gz file.")
		}
		a.Entries++
		if a.Entries > lim.MaxEntries {
			return nil, refuse(ReasonTooManyEntries, "The logs archive holds more than %d entries.", lim.MaxEntries)
		}
		if err := CheckName(h.Name); err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeDir:
		default:
			return nil, refuse(ReasonEntryType, "The logs archive holds an entry that is not a file or folder (%s).", safeName(h.Name))
		}
		n, err := io.Copy(io.Discard, tr)
		a.UncompressedBytes += n
		if capped.over || a.UncompressedBytes > lim.MaxUncompressed {
			return nil, refuse(ReasonUncompressed, "The logs archive would expand beyond %d MiB.", lim.MaxUncompressed>>20)
		}
		if err != nil {
			return nil, refuse(ReasonMalformed, "The logs archive is not a readable tar.gz file.")
		}
	}
	if a.Entries == 0 {
		return nil, refuse(ReasonMalformed, "The logs archive holds no file.")
	}
	if err := ratio(capped.n, size, lim); err != nil {
		return nil, err
	}
	return a, nil
}

type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		c.over = true
		return 0, errors.New("diagnostics: uncompressed cap reached")
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ImageLimits bound a screenshot's declared dimensions: a small PNG can
// declare a 100,000 × 100,000 image that whoever opens it must allocate
// (a decompression bomb; ASVS V12.1.1). 64 megapixels is above an 8K
// screen (33 MP) and a multi-monitor desktop.
const MaxImagePixels = 64 << 20

// CheckImage says whether head (the start of a screenshot) is a PNG or a
// JPEG, from its magic bytes and its header, and returns the extension
// to store it under.
func CheckImage(r io.Reader) (string, error) {
	br := &peekReader{r: r}
	head := br.peek(8)
	var ext string
	var cfg image.Config
	var err error
	switch {
	case bytes.HasPrefix(head, pngMagic):
		ext = "png"
		cfg, err = png.DecodeConfig(br)
	case bytes.HasPrefix(head, jpegMagic):
		ext = "jpg"
		cfg, err = jpeg.DecodeConfig(br)
	default:
		return "", refuse(ReasonWrongType, "A screenshot must be a PNG or JPEG image (its content is neither).")
	}
	if err != nil {
		return "", refuse(ReasonWrongType, "A screenshot is not a readable %s image.", strings.ToUpper(ext))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return "", refuse(ReasonImageDimensions, "A screenshot declares %d × %d pixels; at most %d megapixels are accepted.", cfg.Width, cfg.Height, MaxImagePixels>>20)
	}
	return ext, nil
}

type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peek(n int) []byte {
	b := make([]byte, n)
	k, _ := io.ReadFull(p.r, b)
	p.buf = b[:k]
	return p.buf
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}
