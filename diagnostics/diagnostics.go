// Package diagnostics receives diagnostics bundles from trading
// platforms (SPEC §9) — a logs archive, optional screenshots, a reason
// and a username — checks them as hostile input, stores them outside the
// database with a metadata row, purges them after the retention, and
// serves them to operators. Nobody watches the repository, so every
// answer tells the client to open a Message Center ticket citing the
// reference.
package diagnostics

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/ratelimit"
)

// Config is the "diagnostics" configuration section resolved.
type Config struct {
	// Dir holds one folder per bundle (default DATA/diagnostics). Nodes
	// sharing one database must share it, as they share the statements'
	// root.
	Dir string
	// Retention is how long a bundle is kept (default 30 days).
	Retention time.Duration
	// MaxArchiveBytes and MaxScreenshotBytes cap each part,
	// MaxScreenshots their number; the request as a whole is capped at
	// their sum plus room for the text fields (ASVS V12.1.1).
	MaxArchiveBytes    int64
	MaxScreenshotBytes int64
	MaxScreenshots     int
	// MaxPerUsername caps the bundles uploaded under one username in 24
	// hours: the per-address rate limit does not stop a botnet filling
	// the disk under one victim's name (ASVS V12.1.3).
	MaxPerUsername int
	Archive        ArchiveLimits
}

// Defaults.
const (
	DefaultRetention = 30 * 24 * time.Hour
	// A day of verbose TWS logs zips to a few MB; 50 MiB holds a week.
	DefaultMaxArchiveBytes = 50 << 20
	// A 4K desktop screenshot as PNG is 2–8 MB.
	DefaultMaxScreenshotBytes = 10 << 20
	DefaultMaxScreenshots     = 5
	DefaultMaxPerUsername     = 10
	// maxField caps a text field: a reason is a few sentences.
	maxField      = 4 << 10
	MaxReasonRune = 2000
	maxUsername   = 64
	// fieldRoom is what the request may hold beyond the files: text
	// fields and multipart headers.
	fieldRoom = 64 << 10
)

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.MaxArchiveBytes == 0 {
		c.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if c.MaxScreenshotBytes == 0 {
		c.MaxScreenshotBytes = DefaultMaxScreenshotBytes
	}
	if c.MaxScreenshots == 0 {
		c.MaxScreenshots = DefaultMaxScreenshots
	}
	if c.MaxPerUsername == 0 {
		c.MaxPerUsername = DefaultMaxPerUsername
	}
	if c.Archive == (ArchiveLimits{}) {
		c.Archive = DefaultArchiveLimits
	}
	return c
}

// MaxRequestBytes is the cap on a whole upload.
func (c Config) MaxRequestBytes() int64 {
	return c.MaxArchiveBytes + int64(c.MaxScreenshots)*c.MaxScreenshotBytes + fieldRoom
}

// Service receives, keeps and serves bundles.
type Service struct {
	Store   sls.Store
	Clock   sls.Clock
	Config  Config
	Limiter *ratelimit.Limiter
	Log     *slog.Logger
	Rand    io.Reader // nil: crypto/rand
}

// Notice is what every accepted upload answers, in the words of the
// article "How to Upload a Diagnostic Bundle": the repository is not
// monitored, so the client must open a ticket.
func Notice(ref string) string {
	return fmt.Sprintf("Your diagnostic bundle was uploaded with reference %s. We do not monitor the diagnostic bundle repository "+
		"throughout the day: please inform Client Services now with a Message Center ticket citing %s, otherwise your error report will go unnoticed.", ref, ref)
}

// Uploader is who uploads: a session's user, or a username as typed on
// the login screen.
type Uploader struct {
	User     *sls.User // nil from the login screen
	ClientIP string
}

const incoming = ".incoming"

// Receive reads, checks and stores one upload from r. Every refusal is
// an *sls.Error with Detail["reason"] and leaves nothing behind: the
// parts are written to a private temporary folder that is removed
// unless the bundle is accepted.
func (s *Service) Receive(w http.ResponseWriter, r *http.Request, who Uploader) (*sls.Diagnostic, error) {
	ctx := r.Context()
	// Count the attempt before reading a byte of the body: a flood costs
	// the flooder, not the disk (OWASP: throttle unauthenticated state
	// changes).
	if err := s.Limiter.Take(ctx, ratelimit.DiagnosticsAddress, ratelimit.AddressKey(who.ClientIP)); err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, sls.Errorf(sls.CodeInvalidRequest, "The upload must be multipart/form-data.").WithDetail("reason", ReasonWrongType)
	}
	max := s.Config.MaxRequestBytes()
	if r.ContentLength > max {
		return nil, tooLarge("The upload is over %d MiB.", max>>20)
	}
	// The server's read timeout suits JSON bodies; a 50 MiB bundle over
	// a slow line needs longer (bounded all the same).
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Minute))
	body := http.MaxBytesReader(w, r.Body, max)
	mr := multipart.NewReader(body, params["boundary"])

	if err := os.MkdirAll(filepath.Join(s.Config.Dir, incoming), 0o700); err != nil {
		return nil, fmt.Errorf("diagnostics: folder: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.Config.Dir, incoming), "up-")
	if err != nil {
		return nil, fmt.Errorf("diagnostics: temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp) // gone already when the bundle was accepted

	var username, reason string
	var haveArchive bool
	var shots []string
	seen := map[string]bool{}
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(err)
		}
		if parts == s.Config.MaxScreenshots+3 { // the archive, the screenshots and two fields
			return nil, refuse(ReasonTooManyParts, "The upload has too many parts.")
		}
		switch name := p.FormName(); name {
		case "username", "reason":
			if seen[name] {
				return nil, refuse(ReasonTooManyParts, "The upload has the part %q twice.", name)
			}
			seen[name] = true
			v, err := readField(p, name)
			if err != nil {
				return nil, err
			}
			if name == "username" {
				username = v
			} else {
				reason = v
			}
		case "archive":
			if haveArchive {
				return nil, refuse(ReasonTooManyParts, "Send one logs archive per upload.")
			}
			if err := save(filepath.Join(tmp, "archive"), p, s.Config.MaxArchiveBytes, "The logs archive"); err != nil {
				return nil, err
			}
			haveArchive = true
		case "screenshot":
			if p.FileName() == "" {
				// A browser's file input left empty still sends its part,
				// with no file name and no content (HTML's form
				// submission algorithm): no screenshot, not an empty one.
				n, err := io.Copy(io.Discard, io.LimitReader(p, 1))
				if err != nil {
					return nil, readError(err)
				}
				if n == 0 {
					continue
				}
				return nil, refuse(ReasonWrongType, "A screenshot has no file name.")
			}
			if len(shots) == s.Config.MaxScreenshots {
				return nil, refuse(ReasonTooManyParts, "At most %d screenshots per upload.", s.Config.MaxScreenshots)
			}
			name := fmt.Sprintf("screenshot-%d", len(shots)+1)
			if err := save(filepath.Join(tmp, name), p, s.Config.MaxScreenshotBytes, "A screenshot"); err != nil {
				return nil, err
			}
			ext, err := checkImageFile(filepath.Join(tmp, name))
			if err != nil {
				return nil, err
			}
			if err := os.Rename(filepath.Join(tmp, name), filepath.Join(tmp, name+"."+ext)); err != nil {
				return nil, err
			}
			shots = append(shots, name+"."+ext)
		default:
			return nil, refuse(ReasonBadField, "The upload has an unknown part %s (parts: archive, screenshot, reason, username).", safeName(name))
		}
	}
	if !haveArchive {
		return nil, refuse(ReasonMissing, "The upload holds no logs archive (part \"archive\").")
	}
	d := &sls.Diagnostic{Reason: reason, Screenshots: shots}
	if who.User != nil {
		// A session's own user, whatever the form says.
		d.UserID, d.Username = who.User.ID, who.User.Username
	} else {
		// As logins fold it; whether the user exists is not looked up,
		// so the answer is the same either way.
		d.Username = strings.ToLower(strings.TrimSpace(username))
		if d.Username == "" {
			return nil, refuse(ReasonMissing, "Enter your username (part \"username\").")
		}
	}
	if utf8.RuneCountInString(reason) > MaxReasonRune {
		return nil, refuse(ReasonBadField, "The reason is over %d characters.", MaxReasonRune)
	}
	arch, err := inspectFile(filepath.Join(tmp, "archive"), s.Config.Archive)
	if err != nil {
		return nil, err
	}
	d.ArchiveKind, d.ArchiveEntries, d.UncompressedBytes = arch.Kind, arch.Entries, arch.UncompressedBytes
	if fi, err := os.Stat(filepath.Join(tmp, "archive")); err == nil {
		d.ArchiveBytes = fi.Size()
	}
	archName := "logs." + arch.Kind
	if err := os.Rename(filepath.Join(tmp, "archive"), filepath.Join(tmp, archName)); err != nil {
		return nil, err
	}
	if err := s.store(ctx, d, tmp, who); err != nil {
		return nil, err
	}
	return d, nil
}

// store gives the bundle its reference, its row and its folder, in one
// transaction: the folder is renamed into place inside it, and removed
// again if the commit fails, so a row never lacks its files nor files
// their row.
func (s *Service) store(ctx context.Context, d *sls.Diagnostic, tmp string, who Uploader) error {
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	now := s.Clock.Now()
	d.CreatedAt = now
	var final string
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		n, err := tx.CountDiagnostics(ctx, d.Username, now.Add(-24*time.Hour))
		if err != nil {
			return err
		}
		if n >= s.Config.MaxPerUsername {
			return sls.Errorf(sls.CodeRateLimited, "Too many bundles were uploaded under this username today. Please try again tomorrow, or write to Client Services from the Message Center.").
				WithDetail("reason", ReasonFlood).WithDetail("retry_after_seconds", 3600)
		}
		if d.Ref, err = sls.NewDiagnosticRef(rnd); err != nil {
			return err
		}
		if err := tx.CreateDiagnostic(ctx, d); err != nil {
			return err
		}
		actor := "anonymous"
		if d.UserID != "" {
			actor = sls.ActorUser(d.UserID)
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventDiagnosticUploaded, d.UserID, "", map[string]any{
			"ref": d.Ref, "username": d.Username, "client_ip": who.ClientIP, "archive_bytes": d.ArchiveBytes, "screenshots": len(d.Screenshots),
		}); err != nil {
			return err
		}
		final = filepath.Join(s.Config.Dir, d.Ref)
		return os.Rename(tmp, final)
	})
	if err != nil && final != "" {
		os.RemoveAll(final)
	}
	return err
}

func tooLarge(format string, args ...any) *sls.Error {
	return sls.Errorf(sls.CodeBodyTooLarge, format, args...).WithDetail("reason", ReasonTooLarge)
}

func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge("The upload is over %d MiB.", mbe.Limit>>20)
	}
	return sls.Errorf(sls.CodeInvalidRequest, "The upload is not well-formed multipart/form-data.").WithDetail("reason", ReasonMalformed)
}

func readField(p *multipart.Part, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, maxField+1))
	if err != nil {
		return "", readError(err)
	}
	limit := maxField
	if name == "username" {
		limit = maxUsername
	}
	if len(b) > limit || !utf8.Valid(b) || strings.ContainsRune(string(b), 0) {
		return "", refuse(ReasonBadField, "The %s must be UTF-8 text of at most %d bytes.", name, limit)
	}
	return strings.TrimSpace(string(b)), nil
}

// save copies a part to path, refusing it past max bytes.
func save(path string, p *multipart.Part, max int64, what string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(p, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("diagnostics: writing a part: %w", err) // our disk, not the client's request: 500
	}
	if err != nil {
		return readError(err)
	}
	if n > max {
		return tooLarge("%s is over %d MiB.", what, max>>20)
	}
	if n == 0 {
		return refuse(ReasonWrongType, "%s is empty.", what)
	}
	return nil
}

func inspectFile(path string, lim ArchiveLimits) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Inspect(f, fi.Size(), lim)
}

func checkImageFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return CheckImage(f)
}

// Get returns a bundle's metadata (operators).
func (s *Service) Get(ctx context.Context, ref string) (*sls.Diagnostic, error) {
	ref, ok := sls.ParseDiagnosticRef(ref)
	if !ok {
		return nil, errNoBundle
	}
	var d *sls.Diagnostic
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		d, err = tx.Diagnostic(ctx, ref)
		return err
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, errNoBundle
	}
	return d, err
}

var errNoBundle = sls.Errorf(sls.CodeNotFound, "No diagnostics bundle has this reference (it may have been purged after its retention).")

// List lists bundles: state "open", "closed" or "" (all).
func (s *Service) List(ctx context.Context, state string, limit int) ([]*sls.Diagnostic, error) {
	switch state {
	case "", "open", "closed", "all":
	default:
		return nil, sls.Errorf(sls.CodeInvalidArgument, "state must be open, closed or all.")
	}
	if state == "all" {
		state = ""
	}
	var out []*sls.Diagnostic
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.Diagnostics(ctx, sls.DiagnosticFilter{State: state, Limit: limit})
		return err
	})
	if out == nil {
		out = []*sls.Diagnostic{}
	}
	return out, err
}

// Close marks a bundle dealt with.
func (s *Service) Close(ctx context.Context, actor, ref string) (*sls.Diagnostic, error) {
	ref, ok := sls.ParseDiagnosticRef(ref)
	if !ok {
		return nil, errNoBundle
	}
	now := s.Clock.Now()
	var d *sls.Diagnostic
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		var err error
		if d, err = tx.DiagnosticForUpdate(ctx, ref); err != nil {
			return err
		}
		if !d.Open() {
			return sls.Errorf(sls.CodeConflict, "The bundle %s was closed already (%s by %s).", d.Ref, d.ClosedAt.Format(time.RFC3339), d.ClosedBy)
		}
		d.ClosedAt, d.ClosedBy = now, actor
		if err := tx.PutDiagnostic(ctx, d); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, sls.EventDiagnosticClosed, d.UserID, "", map[string]any{"ref": d.Ref})
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, errNoBundle
	}
	return d, err
}

// WriteBundle writes the bundle as one zip (stored, not compressed
// again): metadata.json, the logs archive and the screenshots, as kept.
// The download is audited before a byte is sent.
func (s *Service) WriteBundle(ctx context.Context, actor, ref string, w http.ResponseWriter) error {
	d, err := s.Get(ctx, ref)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.Config.Dir, d.Ref)
	files := append([]string{"logs." + d.ArchiveKind}, d.Screenshots...)
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("diagnostics: bundle %s: %w", d.Ref, err)
		}
	}
	if err := s.Store.Update(ctx, func(tx sls.Tx) error {
		return sls.Audit(ctx, tx, s.Clock.Now(), actor, sls.EventDiagnosticDownloaded, d.UserID, "", map[string]any{"ref": d.Ref})
	}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.Ref+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	zw := zip.NewWriter(w)
	meta, _ := json.MarshalIndent(d, "", "  ")
	if err := addFile(zw, "metadata.json", strings.NewReader(string(meta)+"\n"), d.CreatedAt); err != nil {
		return err
	}
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = addFile(zw, name, f, d.CreatedAt)
		f.Close()
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

func addFile(zw *zip.Writer, name string, r io.Reader, at time.Time) error {
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: at})
	if err != nil {
		return err
	}
	_, err = io.Copy(fw, r)
	return err
}

// Purge removes the bundles older than the retention: files first, then
// the row, so a failure half-way leaves a row whose files the next run
// removes again (removing what is gone is no error). The scheduler runs
// it on one node at a time; the folder is shared by the nodes. It also
// removes temporary folders an interrupted upload left behind.
func (s *Service) Purge(ctx context.Context, now time.Time) error {
	for {
		var refs []string
		if err := s.Store.View(ctx, func(tx sls.Tx) error {
			var err error
			refs, err = tx.DiagnosticsBefore(ctx, now.Add(-s.Config.Retention), 500)
			return err
		}); err != nil {
			return err
		}
		for _, ref := range refs {
			if _, ok := sls.ParseDiagnosticRef(ref); !ok {
				continue // never a path from the database into RemoveAll unchecked
			}
			if err := os.RemoveAll(filepath.Join(s.Config.Dir, ref)); err != nil {
				return err
			}
			if err := s.Store.Update(ctx, func(tx sls.Tx) error {
				if err := tx.DeleteDiagnostic(ctx, ref); err != nil {
					return err
				}
				return sls.Audit(ctx, tx, now, sls.ActorSystem, sls.EventDiagnosticPurged, "", "", map[string]any{"ref": ref})
			}); err != nil {
				return err
			}
		}
		if len(refs) < 500 {
			break
		}
	}
	// An upload takes minutes at most (its read deadline is 10); an hour
	// old temporary folder is a crash's leftover on some node.
	entries, _ := os.ReadDir(filepath.Join(s.Config.Dir, incoming))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(filepath.Join(s.Config.Dir, incoming, e.Name()))
		}
	}
	return nil
}
