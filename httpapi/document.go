package httpapi

import (
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

// DocumentContentType is the media type a document is served as.
func DocumentContentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return "application/pdf"
	case ".pgp", ".gpg", ".asc":
		return "application/pgp-encrypted"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".xml":
		return "application/xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// ServeDocument writes a document: PDFs inline, so that the browser shows
// and prints them, everything else as an attachment; a sandbox policy and
// nosniff keep a document from running as a page of this origin.
func ServeDocument(w http.ResponseWriter, r *http.Request, f *os.File, d *sls.Document) {
	ct := DocumentContentType(d.File)
	disposition := "attachment"
	if ct == "application/pdf" && r.URL.Query().Get("download") == "" {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": d.File}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	var mod time.Time
	if fi, err := f.Stat(); err == nil {
		mod = fi.ModTime()
	}
	http.ServeContent(w, r, "", mod, f)
}
