package sls

import (
	"context"
	"time"

	"github.com/secure-login-system/sls/audit"
)

// Store is the persistent state of the system. Every piece of state that
// matters lives here, so several server processes sharing one database
// behave as one (ARCHITECTURE: any node can serve any request).
type Store interface {
	// Update runs fn in a read-write transaction, committing when fn
	// returns nil. On PostgreSQL, rows read with a ForUpdate method stay
	// locked until the end of fn; SQLite serialises all writers.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Read runs fn's statements without a transaction, each seeing what
	// is committed when it runs: for reads whose statements need no
	// common snapshot (one round trip each on PostgreSQL, no BEGIN or
	// COMMIT). fn must not write.
	Read(ctx context.Context, fn func(Tx) error) error
	// ChainAudit links the audit entries queued by committed
	// transactions into the hash chain (AuditStore.AppendAudit) and
	// returns how many. With wait, it waits for another node doing the
	// same, so that the trail read next holds everything committed
	// before the call.
	ChainAudit(ctx context.Context, wait bool) (int, error)
	Close() error
}

// Tx is one transaction. Get methods return ErrNotFound (matched with
// errors.Is) when the row does not exist.
type Tx interface {
	AccountStore
	UserStore
	DeviceStore
	LoginStore
	SessionStore
	AuditStore
	OperatorStore
	AuditEvidenceStore
	SealStore
	PasswordResetStore
	ReportLinkStore
	CoolDownStore
	SchedulerStore
	NotifyStore
	IBKeyStore
	PolicyStore
	SFTPStore
	KnownClientStore
	RateLimitStore
	OIDCStore
	DiagnosticStore
	CryptoStore
}

// AccountStore keeps accounts.
type AccountStore interface {
	CreateAccount(ctx context.Context, a *Account) error // ErrConflict if the id exists
	Account(ctx context.Context, id string) (*Account, error)
	AccountForUpdate(ctx context.Context, id string) (*Account, error)
	PutAccount(ctx context.Context, a *Account) error
}

// UserStore keeps users.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error // ErrConflict if the username exists
	User(ctx context.Context, id string) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UserForUpdate reads and locks the user row: all changes to a user's
	// login state (failure counter, lock, devices) go through it, so two
	// nodes never interleave them.
	UserForUpdate(ctx context.Context, id string) (*User, error)
	PutUser(ctx context.Context, u *User) error
	UsersByAccount(ctx context.Context, accountID string) ([]*User, error)
}

// DeviceStore keeps security devices.
type DeviceStore interface {
	CreateDevice(ctx context.Context, d *Device) error
	Device(ctx context.Context, id string) (*Device, error)
	PutDevice(ctx context.Context, d *Device) error
	// Devices lists a user's devices, every state, oldest first.
	Devices(ctx context.Context, userID string) ([]*Device, error)
	// DeviceBySerial finds a physical device by its serial number.
	DeviceBySerial(ctx context.Context, kind DeviceKind, serial string) (*Device, error)
	// MarkResponseUsed records that digest (a hash of an accepted
	// response) was used with the device; ErrConflict when it already was.
	// Records are kept until expires, after which a replay could not
	// succeed anyway; an expired record of the same digest is reused.
	// One statement, whatever the device's history.
	MarkResponseUsed(ctx context.Context, deviceID, digest string, now, expires time.Time) error
	// PurgeUsedResponses deletes the records expired before t (a
	// scheduled job), and returns how many.
	PurgeUsedResponses(ctx context.Context, before time.Time) (int64, error)
	// ResponseUsed reports whether digest is recorded as used with the
	// device and not expired at now (read only): a factor asks before it
	// issues a challenge, so that it never asks for a response it would
	// then refuse as a replay.
	ResponseUsed(ctx context.Context, deviceID, digest string, now time.Time) (bool, error)
}

// LoginStore keeps login transactions.
type LoginStore interface {
	CreateLogin(ctx context.Context, l *LoginTx) error
	// LoginForUpdate reads and locks a login transaction by its id hash.
	LoginForUpdate(ctx context.Context, idHash string) (*LoginTx, error)
	Login(ctx context.Context, idHash string) (*LoginTx, error)
	// LoginWithUserForUpdate is LoginForUpdate and UserForUpdate of the
	// login's user in one statement (one round trip on PostgreSQL), with
	// the device the login has chosen (nil when it has chosen none):
	// what every step after the password reads first. The user's row is
	// locked before the login's, as every path locks users first.
	LoginWithUserForUpdate(ctx context.Context, idHash string) (*LoginTx, *User, *Device, error)
	PutLogin(ctx context.Context, l *LoginTx) error
	// DeleteLoginsBefore removes transactions whose deadline passed before t.
	DeleteLoginsBefore(ctx context.Context, t time.Time) (int64, error)
	// PendingLogins counts the transactions waiting for a device to be
	// chosen or answered whose deadline is after now (metrics).
	PendingLogins(ctx context.Context, now time.Time) (int64, error)
}

// SessionStore keeps sessions.
type SessionStore interface {
	// CreateSession stores s and sets s.NetworkSeen (one statement,
	// whatever the user's history).
	CreateSession(ctx context.Context, s *Session) error
	SessionByTokenHash(ctx context.Context, tokenHash string) (*Session, error)
	Session(ctx context.Context, id string) (*Session, error)
	Sessions(ctx context.Context, userID string) ([]*Session, error)
	PutSession(ctx context.Context, s *Session) error
	// EndSessionsByDevice sets EndedAt to now on every session the device
	// authenticated that has neither ended nor expired, and returns their
	// ids. Callers use EndSessions, which also audits. The sessions are
	// found among those of the device's user, so the device is one the
	// store holds (as every session's device is).
	EndSessionsByDevice(ctx context.Context, deviceID string, now time.Time) ([]string, error)
	// EndSessionsByUser does the same for every session of the user,
	// except those whose scope is keep (when keep is not empty).
	EndSessionsByUser(ctx context.Context, userID string, keep Scope, now time.Time) ([]string, error)
	// PurgeSessions deletes sessions that ended or expired before t, and
	// returns how many.
	PurgeSessions(ctx context.Context, before time.Time) (int64, error)
}

// AuditStore is the append-only audit trail. There is deliberately no
// method to change or delete an entry.
type AuditStore interface {
	// AppendAudit stores e with the transaction, queued: Store.ChainAudit
	// assigns its sequence number and chains it to the previous entry
	// (package audit) after commit. Appends do not wait for each other.
	AppendAudit(ctx context.Context, e *audit.Entry) error
	// AuditEntries returns up to limit chained entries with Seq > after,
	// in order.
	AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error)
}
