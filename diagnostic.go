package sls

import (
	"context"
	"io"
	"strings"
	"time"
)

// Diagnostics (SPEC §9): a trading platform uploads a bundle — a logs
// archive, optional screenshots, a reason and a username — to a
// repository nobody watches, so the client must also open a Message
// Center ticket citing the bundle's reference, or it goes unnoticed. The
// files live outside the database (package diagnostics); the database
// keeps this metadata row.

// Diagnostic is one uploaded bundle's metadata.
type Diagnostic struct {
	// Ref is the reference the client quotes: "D-XXXX-XXXX", random
	// Crockford base32.
	Ref string `json:"ref"`
	// Username is the username the bundle was uploaded under, as typed
	// on the login screen (folded) or the session's user's. Whether such
	// a user exists is never looked up at upload time.
	Username string `json:"username"`
	// UserID is the uploading session's user ("" from the login screen).
	UserID string `json:"user_id,omitempty"`
	Reason string `json:"reason"`
	// ArchiveKind is "zip" or "tar.gz"; the sizes are as stored.
	ArchiveKind  string `json:"archive_kind"`
	ArchiveBytes int64  `json:"archive_bytes"`
	// ArchiveEntries and UncompressedBytes are what the inspection found.
	ArchiveEntries    int   `json:"archive_entries"`
	UncompressedBytes int64 `json:"uncompressed_bytes"`
	// Screenshots lists the stored screenshots' file names (ours, not the
	// client's: "screenshot-1.png", …).
	Screenshots []string  `json:"screenshots"`
	CreatedAt   time.Time `json:"created_at"`
	// TicketID is the Message Center ticket that cites the bundle ("":
	// none yet).
	TicketID string    `json:"ticket_id,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	ClosedBy string    `json:"closed_by,omitempty"`
}

// Open reports whether no operator has closed the bundle.
func (d *Diagnostic) Open() bool { return d.ClosedAt.IsZero() }

// UploadedBy reports whether the bundle is u's: uploaded from u's session,
// or from the login screen under u's username (folded as logins fold it).
// A ticket may cite only such a bundle.
func (d *Diagnostic) UploadedBy(u *User, username string) bool {
	if d.UserID != "" {
		return d.UserID == u.ID
	}
	return d.Username == username
}

// Ticket is a client's Message Center ticket to Client Services.
type Ticket struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Subject    string    `json:"subject"`
	SealedBody []byte    `json:"-"`
	Diagnostic string    `json:"diagnostic_ref,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// DiagnosticFilter selects bundles for operators.
type DiagnosticFilter struct {
	// State is "open", "closed" or "" (both).
	State string
	Limit int
}

// DiagnosticStore keeps diagnostics metadata and Message Center tickets.
type DiagnosticStore interface {
	// CreateDiagnostic stores d; ErrConflict if the reference exists.
	CreateDiagnostic(ctx context.Context, d *Diagnostic) error
	// Diagnostic returns the bundle; ErrNotFound when there is none.
	Diagnostic(ctx context.Context, ref string) (*Diagnostic, error)
	// DiagnosticForUpdate is Diagnostic with the row locked.
	DiagnosticForUpdate(ctx context.Context, ref string) (*Diagnostic, error)
	// PutDiagnostic saves the ticket link and the closing of d.
	PutDiagnostic(ctx context.Context, d *Diagnostic) error
	// Diagnostics lists bundles, newest first.
	Diagnostics(ctx context.Context, f DiagnosticFilter) ([]*Diagnostic, error)
	// CountDiagnostics counts the bundles uploaded under username since,
	// and holds until the end of the transaction a lock on the username:
	// two uploads under one name, on one node or two, are counted one
	// after the other, so a burst cannot pass the per-username cap
	// together. Call it in the transaction that creates the bundle.
	CountDiagnostics(ctx context.Context, username string, since time.Time) (int, error)
	// DiagnosticsBefore lists the references of bundles uploaded before t
	// (the purge removes their files, then DeleteDiagnostic their rows).
	DiagnosticsBefore(ctx context.Context, t time.Time, limit int) ([]string, error)
	// DeleteDiagnostic removes the row (none: no error).
	DeleteDiagnostic(ctx context.Context, ref string) error

	CreateTicket(ctx context.Context, t *Ticket) error
	// Tickets lists the user's tickets, newest first.
	Tickets(ctx context.Context, userID string) ([]*Ticket, error)
}

// Audit events of diagnostics.
const (
	EventDiagnosticUploaded   = "diagnostics.uploaded"
	EventDiagnosticDownloaded = "diagnostics.downloaded"
	EventDiagnosticClosed     = "diagnostics.closed"
	EventDiagnosticPurged     = "diagnostics.purged"
	EventTicketOpened         = "ticket.opened"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a
// reference read out on the phone or typed from a screenshot is not
// misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewDiagnosticRef returns "D-XXXX-XXXX": 40 random bits (1.1 × 10^12
// references), which nobody guesses at the upload rate limit, and which
// a person types without error. rand is crypto/rand in production.
func NewDiagnosticRef(rand io.Reader) (string, error) {
	b := make([]byte, 8)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", err
	}
	out := []byte("D-XXXX-XXXX")
	j := 2
	for _, c := range b {
		if j == 6 {
			j++
		}
		out[j] = crockford[c&31] // 256 is a multiple of 32: no bias
		j++
	}
	return string(out), nil
}

// ParseDiagnosticRef reads a reference as a person types it: any case,
// with or without the dashes, O for 0 and I or L for 1 (Crockford's
// decoding). It returns the canonical form, or false.
func ParseDiagnosticRef(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, "-", "")
	if len(s) == 9 && s[0] == 'D' {
		s = s[1:] // the prefix; a body that starts with D typed alone stays whole
	}
	if len(s) != 8 {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if !strings.ContainsRune(crockford, rune(c)) {
			return "", false
		}
		b[i] = c
	}
	return "D-" + string(b[:4]) + "-" + string(b[4:]), true
}
