package sls

import (
	"context"
	"net/netip"
	"time"
)

// Audit events of statement delivery (SPEC §7). The SFTP server's own
// events (sftp.login, sftp.download, sftp.addr_refused…) are named by
// package sftpd and written to the trail as they are.
const (
	EventSFTPClientRegistered = "sftp.client_registered"
	EventSFTPClientEnabled    = "sftp.client_enabled"
	EventSFTPClientDisabled   = "sftp.client_disabled"
	EventSFTPKeyAdded         = "sftp.key_added"
	EventSFTPKeyRevoked       = "sftp.key_revoked"
	EventSFTPAllowListSet     = "sftp.allow_list_set"
	EventSFTPPGPKeySet        = "sftp.pgp_key_set"
	EventSFTPPGPKeyRemoved    = "sftp.pgp_key_removed"
	EventSFTPQuotaSet         = "sftp.quota_set"
	// FTP report access (the FTP server's own events are named by
	// package ftpd: ftp.login, ftp.auth_failed…).
	EventFTPPasswordSet     = "ftp.password_set"
	EventFTPAccessRemoved   = "ftp.access_removed"
	EventFTPPlainSet        = "ftp.plain_set"
	EventFTPHeldOff         = "ftp.held_off"
	EventStatementDelivered = "statement.delivered"
	EventStatementsPurged   = "statement.purged"
)

// SFTPClient is one statement-delivery account: an SFTP username (the
// name of the client's folder, which may differ from the login username)
// linked to the user whose statements it receives.
type SFTPClient struct {
	// Username is the SFTP username: 1 to 64 characters from
	// [a-z0-9._-], stored lower-case (SSH usernames are case-sensitive,
	// and a folder per spelling would split a client's files).
	Username string `json:"username"`
	UserID   string `json:"user_id"`
	// Enabled clients may connect; a disabled client's address no longer
	// opens the port and its keys no longer log in.
	Enabled bool `json:"enabled"`
	// PGPKey is the client's armored OpenPGP public key, when statements
	// are to be encrypted to it; PGPFingerprint identifies it (hex).
	PGPKey         string `json:"pgp_key,omitempty"`
	PGPFingerprint string `json:"pgp_fingerprint,omitempty"`
	// QuotaBytes bounds the bytes in the client's folder; 0 takes the
	// server's default (sftp.default_quota_bytes).
	QuotaBytes int64 `json:"quota_bytes,omitempty"`
	// FTPPasswordHash is the Argon2id hash of the FTP password the server
	// generated for the client (package passhash); empty: no FTP access.
	FTPPasswordHash string `json:"-"`
	// FTPPlain lets the client log in over FTP without TLS. It is in
	// force only while the client has an OpenPGP key, so that every file
	// it reads in clear text on the wire was encrypted before.
	FTPPlain bool `json:"ftp_plain,omitempty"`
	// FTPFailures counts wrong FTP passwords in a row; FTPHeldUntil is
	// the hold-off they caused (the password login's rule, sls.HoldOff).
	FTPFailures  int       `json:"ftp_failures,omitempty"`
	FTPHeldUntil time.Time `json:"ftp_held_until,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// FTPEnabled reports whether the client has an FTP password.
func (c *SFTPClient) FTPEnabled() bool { return c.FTPPasswordHash != "" }

// FTPPlainInForce reports whether the client may use FTP without TLS now.
func (c *SFTPClient) FTPPlainInForce() bool { return c.FTPPlain && c.PGPKey != "" }

// SFTPKey is one SSH public key a client sent. Revoked keys are kept (with
// RevokedAt set) so that the trail of which key logged in stays readable.
type SFTPKey struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	// AuthorizedKey is the key as one OpenSSH line ("ssh-rsa AAAA…
	// comment"), whatever format it arrived in.
	AuthorizedKey string    `json:"authorized_key"`
	Fingerprint   string    `json:"fingerprint"` // "SHA256:…"
	Type          string    `json:"type"`        // "ssh-rsa", "ssh-ed25519", …
	Bits          int       `json:"bits"`
	Format        string    `json:"format"` // the format it was sent in (package sshkey)
	Comment       string    `json:"comment,omitempty"`
	AddedAt       time.Time `json:"added_at"`
	RevokedAt     time.Time `json:"revoked_at,omitzero"`
}

// SFTPStore keeps the statement-delivery clients, their keys and their
// allow-lists.
type SFTPStore interface {
	// CreateSFTPClient stores a new client; ErrConflict if the username
	// is taken.
	CreateSFTPClient(ctx context.Context, c *SFTPClient) error
	SFTPClient(ctx context.Context, username string) (*SFTPClient, error)
	// SFTPClientForUpdate reads and locks the client row: changes to a
	// client's keys and allow-list go through it.
	SFTPClientForUpdate(ctx context.Context, username string) (*SFTPClient, error)
	// PutSFTPClient stores Enabled, the PGP key, QuotaBytes and UpdatedAt.
	PutSFTPClient(ctx context.Context, c *SFTPClient) error
	// SFTPClients lists every client by username.
	SFTPClients(ctx context.Context) ([]*SFTPClient, error)
	// SFTPClientsByUser lists the clients linked to a user.
	SFTPClientsByUser(ctx context.Context, userID string) ([]*SFTPClient, error)

	// AddSFTPKey stores a key; ErrConflict when the client already has
	// the same key (same fingerprint) unrevoked.
	AddSFTPKey(ctx context.Context, k *SFTPKey) error
	// SFTPKeys lists a client's keys, oldest first; revoked ones only
	// when withRevoked.
	SFTPKeys(ctx context.Context, username string, withRevoked bool) ([]*SFTPKey, error)
	// RevokeSFTPKey revokes the client's unrevoked key with that id;
	// ErrNotFound when there is none.
	RevokeSFTPKey(ctx context.Context, username, id string, at time.Time) error

	// SetSFTPNetworks replaces the client's allow-list. Prefixes must be
	// masked (netip.Prefix.Masked) and IPv4 ones unmapped.
	SetSFTPNetworks(ctx context.Context, username string, nets []netip.Prefix) error
	// SFTPNetworks returns the client's allow-list, sorted.
	SFTPNetworks(ctx context.Context, username string) ([]netip.Prefix, error)
	// SFTPAddrAllowed reports whether addr is on the allow-list of some
	// enabled client.
	SFTPAddrAllowed(ctx context.Context, addr netip.Addr) (bool, error)

	// PutDocument records a delivered document; one already recorded for
	// the same client and file is replaced (its ID is kept: d.ID is set
	// to the stored one).
	PutDocument(ctx context.Context, d *Document) error
	// Documents lists a user's documents, newest first.
	Documents(ctx context.Context, userID string) ([]*Document, error)
	// Document returns the user's document with that id; ErrNotFound when
	// the user has none (another user's id included).
	Document(ctx context.Context, userID, id string) (*Document, error)
	// DeleteDocumentsBefore forgets the documents delivered before t (the
	// retention purge removes their files) and returns how many.
	DeleteDocumentsBefore(ctx context.Context, t time.Time) (int, error)
}

// DocumentKind says what a delivered document is.
type DocumentKind string

// Document kinds; an operator names one when delivering.
const (
	DocStatement DocumentKind = "statement" // activity statements (daily, monthly, annual)
	DocTaxForm   DocumentKind = "tax_form"  // tax forms (1099, 1042-S…)
	DocReport    DocumentKind = "report"    // other reports from the Reporting Integration Team
)

// DocumentKinds are the kinds in the order the portal shows them.
var DocumentKinds = []DocumentKind{DocStatement, DocTaxForm, DocReport}

// Document is one file delivered into a client folder for a user.
type Document struct {
	ID          string       `json:"id"`
	UserID      string       `json:"-"`
	Client      string       `json:"-"` // the delivery folder
	File        string       `json:"name"`
	Kind        DocumentKind `json:"type"`
	Bytes       int64        `json:"bytes"`
	Encrypted   bool         `json:"encrypted"`
	DeliveredAt time.Time    `json:"delivered_at"`
	// PurgeAfter is when the retention purge removes it: computed from
	// the deployment's retention when shown, not stored.
	PurgeAfter time.Time `json:"purge_after"`
}
