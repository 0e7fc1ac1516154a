package diagnostics_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/diagnostics"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/messages"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

var t0 = time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *diagnostics.Service
	store sls.Store
	clk   *clock.Fake
	dir   string
}

func newFixture(t *testing.T, rules map[string]ratelimit.Rule) *fixture {
	st := storetest.MustOpenSQLite(t)
	clk := clock.NewFake(t0)
	if rules == nil {
		rules = map[string]ratelimit.Rule{} // off: the flood test turns it on
	}
	lim, err := ratelimit.New(st, clk, rules)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := diagnostics.Config{Dir: dir, MaxArchiveBytes: 64 << 10, MaxScreenshotBytes: 16 << 10, MaxScreenshots: 2, MaxPerUsername: 3,
		Archive: diagnostics.ArchiveLimits{MaxEntries: 20, MaxUncompressed: 4 << 20, MaxRatio: 100}}.WithDefaults()
	return &fixture{svc: &diagnostics.Service{Store: st, Clock: clk, Config: cfg, Limiter: lim}, store: st, clk: clk, dir: dir}
}

type part struct {
	name, filename string
	body           []byte
}

func form(t *testing.T, parts ...part) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.body)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	zw.Close()
	return b.Bytes()
}

var logs = zipOf(nil, map[string][]byte{"tws.log": []byte(strings.Repeat("17:00 connected\n", 50))})

// upload sends the parts as the login screen would (no session), and
// returns the status and the error's detail reason.
func (f *fixture) upload(t *testing.T, user *sls.User, parts ...part) (int, string, *sls.Diagnostic) {
	ct, body := form(t, parts...)
	r := httptest.NewRequest("POST", "/api/v1/diagnostics", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	w := httptest.NewRecorder()
	d, err := f.svc.Receive(w, r, diagnostics.Uploader{User: user, ClientIP: "192.0.2.7"})
	if err != nil {
		var e *sls.Error
		if !errors.As(err, &e) {
			t.Fatalf("not an sls.Error: %v", err)
		}
		reason, _ := e.Detail["reason"].(string)
		return httpapi.StatusOf(e.Code), reason, nil
	}
	return http.StatusCreated, "", d
}

// stored lists what the diagnostics folder holds, temporary folders
// included.
func (f *fixture) stored(t *testing.T) []string {
	var out []string
	filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, f.dir))
		}
		return nil
	})
	return out
}

func TestUpload(t *testing.T) {
	f := newFixture(t, nil)
	png := pngOf(t)
	status, reason, d := f.upload(t, nil, part{"username", "", []byte("  Alice ")}, part{"reason", "", []byte("TWS freezes")},
		part{"archive", "logs.txt", logs}, part{"screenshot", "shot.bin", png})
	if status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, reason)
	}
	if _, ok := sls.ParseDiagnosticRef(d.Ref); !ok || d.Username != "alice" || d.UserID != "" || d.ArchiveKind != "zip" ||
		len(d.Screenshots) != 1 || d.Screenshots[0] != "screenshot-1.png" {
		t.Fatalf("bundle: %+v", d)
	}
	for _, name := range []string{"logs.zip", "screenshot-1.png"} {
		if _, err := os.Stat(filepath.Join(f.dir, d.Ref, name)); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(diagnostics.Notice(d.Ref), "Message Center ticket citing "+d.Ref) {
		t.Fatal(diagnostics.Notice(d.Ref))
	}
	// Operators: download and close.
	w := httptest.NewRecorder()
	if err := f.svc.WriteBundle(context.Background(), "operator:ann", strings.ToLower(d.Ref), w); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if err != nil || len(zr.File) != 3 || zr.File[1].Name != "logs.zip" {
		t.Fatalf("download: %v", err)
	}
	if c, err := f.svc.Close(context.Background(), "operator:ann", d.Ref); err != nil || c.Open() {
		t.Fatalf("close: %+v %v", c, err)
	}
	if _, err := f.svc.Close(context.Background(), "operator:ann", d.Ref); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("closed twice: %v", err)
	}
	if l, _ := f.svc.List(context.Background(), "open", 10); len(l) != 0 {
		t.Fatalf("open after close: %v", l)
	}
	// Purge after the retention: files and row.
	f.clk.Advance(31 * 24 * time.Hour)
	if err := f.svc.Purge(context.Background(), f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t); len(got) != 0 {
		t.Fatalf("left after the purge: %v", got)
	}
	if _, err := f.svc.Get(context.Background(), d.Ref); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("row after the purge: %v", err)
	}
}

// TestUploadRefusals: each hostile upload gets its status and stable
// reason, and none leaves a file or a row behind.
func TestUploadRefusals(t *testing.T) {
	f := newFixture(t, nil)
	user := part{"username", "", []byte("bob")}
	bomb := zipOf(t, map[string][]byte{"zeros.log": make([]byte, 2<<20)})
	big := make([]byte, 70<<10)
	for i := range big {
		big[i] = byte(i*7 + i/3)
	}
	for _, tc := range []struct {
		name   string
		status int
		reason string
		parts  []part
	}{
		{"no archive", 400, diagnostics.ReasonMissing, []part{user}},
		{"no username", 400, diagnostics.ReasonMissing, []part{{"archive", "a.zip", logs}}},
		{"pdf named zip", 400, diagnostics.ReasonWrongType, []part{user, {"archive", "logs.zip", []byte("%PDF-1.7 not a zip at all")}}},
		{"exe named png", 400, diagnostics.ReasonWrongType, []part{user, {"archive", "a.zip", logs}, {"screenshot", "s.png", []byte("MZ\x90\x00 a program")}}},
		{"zip bomb", 400, diagnostics.ReasonRatio, []part{user, {"archive", "a.zip", bomb}}},
		{"dot dot", 400, diagnostics.ReasonUnsafeName, []part{user, {"archive", "a.zip", zipOf(t, map[string][]byte{"../../etc/cron.d/evil": []byte("x")})}}},
		{"absolute", 400, diagnostics.ReasonUnsafeName, []part{user, {"archive", "a.zip", zipOf(t, map[string][]byte{"/etc/passwd": []byte("x")})}}},
		{"oversized archive", 413, diagnostics.ReasonTooLarge, []part{user, {"archive", "a.zip", big}}},
		{"too many screenshots", 400, diagnostics.ReasonTooManyParts, []part{user, {"archive", "a.zip", logs},
			{"screenshot", "1.png", pngOf(t)}, {"screenshot", "2.png", pngOf(t)}, {"screenshot", "3.png", pngOf(t)}}},
		{"unknown part", 400, diagnostics.ReasonBadField, []part{user, {"archive", "a.zip", logs}, {"path", "", []byte("/etc")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, reason, _ := f.upload(t, nil, tc.parts...)
			if status != tc.status || reason != tc.reason {
				t.Fatalf("got %d %s, want %d %s", status, reason, tc.status, tc.reason)
			}
			if got := f.stored(t); len(got) != 0 {
				t.Fatalf("a refusal left %v", got)
			}
		})
	}
	// The request as a whole is capped before its parts are read.
	r := httptest.NewRequest("POST", "/api/v1/diagnostics", bytes.NewReader(make([]byte, 10)))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	r.ContentLength = f.svc.Config.MaxRequestBytes() + 1
	if _, err := f.svc.Receive(httptest.NewRecorder(), r, diagnostics.Uploader{ClientIP: "192.0.2.7"}); sls.ErrorCode(err) != sls.CodeBodyTooLarge {
		t.Fatalf("declared oversize: %v", err)
	}
	r = httptest.NewRequest("POST", "/api/v1/diagnostics", strings.NewReader(`{"archive": "x"}`))
	r.Header.Set("Content-Type", "application/json")
	if _, err := f.svc.Receive(httptest.NewRecorder(), r, diagnostics.Uploader{ClientIP: "192.0.2.7"}); sls.ErrorCode(err) != sls.CodeInvalidRequest {
		t.Fatalf("json: %v", err)
	}
	if l, _ := f.svc.List(context.Background(), "", 10); len(l) != 0 {
		t.Fatalf("rows after refusals: %v", l)
	}
}

// TestUploadFlood: one address is limited (across nodes: the buckets are
// in the database), and so is one username whatever the address.
func TestUploadFlood(t *testing.T) {
	f := newFixture(t, map[string]ratelimit.Rule{ratelimit.DiagnosticsAddress: {Rate: 10, Per: time.Hour, Burst: 5}})
	ok := 0
	var last int
	for i := range 8 {
		status, _, _ := f.upload(t, nil, part{"username", "", []byte("user" + string(rune('a'+i)))}, part{"archive", "a.zip", logs})
		if status == http.StatusCreated {
			ok++
		}
		last = status
	}
	if ok != 5 || last != http.StatusTooManyRequests {
		t.Fatalf("%d accepted from one address, last %d", ok, last)
	}

	g := newFixture(t, nil) // per-username cap: 3 a day
	for i := range 4 {
		status, reason, _ := g.upload(t, nil, part{"username", "", []byte("victim")}, part{"archive", "a.zip", logs})
		if want := map[bool]int{true: 201, false: 429}[i < 3]; status != want {
			t.Fatalf("upload %d under one username: %d %s", i+1, status, reason)
		}
		if i == 3 && reason != diagnostics.ReasonFlood {
			t.Fatalf("reason %s", reason)
		}
	}
	if got := g.stored(t); len(got) != 3 {
		t.Fatalf("stored %v", got)
	}
	g.clk.Advance(25 * time.Hour)
	if status, _, _ := g.upload(t, nil, part{"username", "", []byte("victim")}, part{"archive", "a.zip", logs}); status != 201 {
		t.Fatalf("a day later: %d", status)
	}
}

// TestTicketCitesOwnBundleOnly: a ticket links the client's own bundle
// (uploaded from the login screen under their username, or from their
// session); someone else's and an unknown reference get one answer.
func TestTicketCitesOwnBundleOnly(t *testing.T) {
	f := newFixture(t, nil)
	alice := storetest.Fixture(t, f.store, "alice")
	bob := storetest.Fixture(t, f.store, "bob")
	key := make([]byte, 32)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	mc := &messages.Service{Store: f.store, Sealer: sealer, Clock: f.clk}
	_, _, fromLogin := f.upload(t, nil, part{"username", "", []byte("ALICE")}, part{"archive", "a.zip", logs})
	_, _, fromSession := f.upload(t, bob, part{"username", "", []byte("alice")}, part{"archive", "a.zip", logs})
	if fromSession.Username != "bob" || fromSession.UserID != bob.ID {
		t.Fatalf("a session's upload is its user's: %+v", fromSession)
	}
	ctx := context.Background()
	tk, err := mc.OpenTicket(ctx, alice, "TWS freezes", "Please look at my logs.", strings.ToLower(fromLogin.Ref))
	if err != nil || tk.Diagnostic != fromLogin.Ref {
		t.Fatalf("own bundle: %+v %v", tk, err)
	}
	if d, _ := f.svc.Get(ctx, fromLogin.Ref); d.TicketID != tk.ID {
		t.Fatalf("not linked: %+v", d)
	}
	_, errOther := mc.OpenTicket(ctx, alice, "x", "y", fromSession.Ref)
	_, errNone := mc.OpenTicket(ctx, alice, "x", "y", "D-0000-0000")
	if sls.ErrorCode(errOther) != sls.CodeNotFound || errOther.Error() != errNone.Error() {
		t.Fatalf("someone else's: %v; unknown: %v", errOther, errNone)
	}
	if d, _ := f.svc.Get(ctx, fromSession.Ref); d.TicketID != "" {
		t.Fatalf("someone else's bundle got linked: %+v", d)
	}
	list, err := mc.Tickets(ctx, alice.ID)
	if err != nil || len(list) != 1 || list[0].Body != "Please look at my logs." {
		t.Fatalf("tickets: %+v %v", list, err)
	}
}
