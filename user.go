package sls

import "time"

// Account is a brokerage account. Several users (usernames) may act on one
// account.
type Account struct {
	ID           string    `json:"id"`
	BaseCurrency string    `json:"base_currency"`
	EquityMinor  int64     `json:"equity_minor"` // account equity in minor units of BaseCurrency
	Jurisdiction string    `json:"jurisdiction"` // ISO 3166-1 alpha-2 country of residence of the account
	CreatedAt    time.Time `json:"created_at"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	// TempPasscodeLast is true while the most recent access issued to the
	// account is a temporary passcode; another one may not be issued until
	// the client activates some other device (SPEC §1: never issued twice
	// in a row to the same account).
	TempPasscodeLast bool `json:"temp_passcode_last"`
}

// Closed reports whether the account is closed.
func (a *Account) Closed() bool { return !a.ClosedAt.IsZero() }

// Identity is the personal data that decides whether several usernames
// belong to the same person (SPEC §5, device sharing). It is sealed at rest.
type Identity struct {
	DateOfBirth string `json:"date_of_birth,omitempty"` // YYYY-MM-DD
	Citizenship string `json:"citizenship,omitempty"`   // ISO 3166-1 alpha-2
	Residence   string `json:"residence,omitempty"`     // ISO 3166-1 alpha-2
	IDType      string `json:"id_type,omitempty"`       // passport, national_id, driver_license…
	IDNumber    string `json:"id_number,omitempty"`
}

// User is a username that logs in.
type User struct {
	ID           string `json:"id"`
	Username     string `json:"username"`
	AccountID    string `json:"account_id"`
	PasswordHash string `json:"-"`
	Email        string `json:"email,omitempty"`
	// Mobile is the E.164 mobile number; MobileVerifiedAt is set once the
	// user proved it receives SMS there.
	Mobile           string    `json:"mobile,omitempty"`
	MobileVerifiedAt time.Time `json:"mobile_verified_at,omitzero"`
	MobileChangedAt  time.Time `json:"mobile_changed_at,omitzero"`
	// Identity is opened from its sealed form only when needed.
	Identity       Identity `json:"-"`
	SealedIdentity []byte   `json:"-"`
	// CanChangeSecurity is the permission to change security settings
	// (opt out / opt back in, SPEC §5).
	CanChangeSecurity bool `json:"can_change_security"`
	// OptedOut users log in to trading platforms with the password alone.
	OptedOut bool `json:"opted_out"`
	// Always2FA is "Always use my secure login device at login".
	Always2FA bool `json:"always_2fa"`
	// Lang is the preferred language (BCP 47), used for pages and messages.
	Lang string `json:"lang,omitempty"`
	// FailedAnswers counts failed second-factor answers since the last
	// success, across all login transactions.
	FailedAnswers int `json:"failed_answers"`
	// FailedPasswords counts wrong passwords from unknown clients (no
	// KnownClient token of this user) since the last right password.
	FailedPasswords int       `json:"failed_passwords"`
	LockedUntil     time.Time `json:"locked_until,omitzero"`
	// UntrustedUntil holds off logins from unknown clients until then,
	// after wrong passwords from unknown clients; known clients are not
	// held off (OWASP "Slow Down Online Guessing Attacks with Device
	// Cookies").
	UntrustedUntil time.Time `json:"untrusted_until,omitzero"`
	// DisabledAt is when an operator disabled the user (zero: enabled);
	// DeletedAt when the user was deleted (personal data erased, the
	// username reserved, the audit history kept).
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	DeletedAt  time.Time `json:"deleted_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
}

// Inactive reports whether the user may not log in at all: disabled by
// an operator, or deleted.
func (u *User) Inactive() bool { return !u.DisabledAt.IsZero() || !u.DeletedAt.IsZero() }

// Locked reports whether the user is locked at now.
func (u *User) Locked(now time.Time) bool {
	return !u.LockedUntil.IsZero() && now.Before(u.LockedUntil)
}
