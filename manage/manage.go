// Package manage changes accounts, users and security devices outside a
// login: what Client Services does for a client (create users, issue cards
// and temporary passcodes, suspend or revoke devices, unlock users) and
// what a client does for itself (print and activate an Online Security
// Code Card). Every change is audited with who made it.
package manage

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/codecard"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/factor/cards"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/factor/temppass"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/verify"
)

// Hooks let other features react to device changes inside the same
// transaction (notifications, switching SMS off when IB Key activates…).
type Hooks interface {
	DeviceActivated(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error
	TempPasscodeIssued(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error
}

// Service makes the changes.
type Service struct {
	Store  sls.Store
	Sealer *seal.Sealer
	Clock  sls.Clock
	Rand   io.Reader // nil: crypto/rand
	Argon  passhash.Params
	// Hashing bounds the password hashes this service computes together
	// with the logins' (nil: unbounded; docs/design.md, "Bounded
	// hashing").
	Hashing *passhash.Gate
	Hooks   Hooks // nil: none
	// DSCPlus is the eligibility rule operator issuance applies (nil: it
	// cannot be checked, and only an override issues).
	DSCPlus DSCPlusRules
	// Notifier tells users of password changes and carries reset codes
	// (nil: nothing is sent).
	Notifier sls.Notifier
	// PasswordRules checks a new password (nil: ValidatePassword);
	// singleFactor is set when the password is the user's only factor,
	// context holds words the password must not contain (the username).
	PasswordRules func(password string, singleFactor bool, context ...string) error
	// PasswordReset is called in the transaction that resets a user's
	// password through Client Services (nil: nothing): a security change.
	PasswordReset func(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error
}

// checkPassword applies the password rules.
func (s *Service) checkPassword(pw string, singleFactor bool, context ...string) error {
	if s.PasswordRules != nil {
		return s.PasswordRules(pw, singleFactor, context...)
	}
	return ValidatePassword(pw)
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now()
}

func (s *Service) rand() io.Reader {
	if s.Rand == nil {
		return rand.Reader
	}
	return s.Rand
}

var (
	accountIDPattern = regexp.MustCompile(`^[A-Z0-9]{2,20}$`)
	usernamePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)
	currencyPattern  = regexp.MustCompile(`^[A-Z]{3}$`)
	countryPattern   = regexp.MustCompile(`^[A-Z]{2}$`)
	serialPattern    = regexp.MustCompile(`^[A-Z0-9-]{4,32}$`)
	datePattern      = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

func invalid(format string, args ...any) error {
	return sls.Errorf(sls.CodeInvalidArgument, format, args...)
}

// NewAccount describes an account to create.
type NewAccount struct {
	ID           string `json:"id" required:"true"`
	BaseCurrency string `json:"base_currency" required:"true"`
	EquityMinor  int64  `json:"equity_minor"`
	Jurisdiction string `json:"jurisdiction" required:"true"`
}

// CreateAccount creates an account.
func (s *Service) CreateAccount(ctx context.Context, actor string, n NewAccount) (*sls.Account, error) {
	n.ID, n.BaseCurrency, n.Jurisdiction = strings.ToUpper(n.ID), strings.ToUpper(n.BaseCurrency), strings.ToUpper(n.Jurisdiction)
	switch {
	case !accountIDPattern.MatchString(n.ID):
		return nil, invalid("The account id must be 2 to 20 letters and digits.")
	case !currencyPattern.MatchString(n.BaseCurrency):
		return nil, invalid("The base currency must be a 3-letter ISO 4217 code.")
	case !countryPattern.MatchString(n.Jurisdiction):
		return nil, invalid("The jurisdiction must be a 2-letter ISO 3166 country code.")
	case n.EquityMinor < 0:
		return nil, invalid("Equity must not be negative.")
	}
	now := s.now()
	a := &sls.Account{ID: n.ID, BaseCurrency: n.BaseCurrency, EquityMinor: n.EquityMinor, Jurisdiction: n.Jurisdiction, CreatedAt: now}
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.CreateAccount(ctx, a); err != nil {
			if errors.Is(err, sls.ErrConflict) {
				return sls.Errorf(sls.CodeConflict, "Account %s already exists.", a.ID)
			}
			return err
		}
		return sls.Audit(ctx, tx, now, actor, sls.EventAccountCreated, "", "",
			map[string]any{"account_id": a.ID, "jurisdiction": a.Jurisdiction, "base_currency": a.BaseCurrency})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// NewUser describes a user to create.
type NewUser struct {
	Username          string       `json:"username" required:"true"`
	Password          string       `json:"password" required:"true"`
	AccountID         string       `json:"account_id" required:"true"`
	Email             string       `json:"email"`
	Mobile            string       `json:"mobile"`
	Identity          sls.Identity `json:"identity"`
	CanChangeSecurity bool         `json:"can_change_security"`
	Lang              string       `json:"lang"`
}

// IdentityPlace is where a user's identity data is sealed.
func IdentityPlace(userID string) seal.Place {
	return seal.Place{Table: "users", Column: "identity_sealed", Row: userID}
}

// ValidatePassword applies NIST SP 800-63B §5.1.1.2: at least 8
// characters, at most a generous bound (64 must be allowed), no
// composition rules.
func ValidatePassword(pw string) error {
	n := len([]rune(pw))
	if n < 8 {
		return sls.Errorf(sls.CodeInvalidArgument, "The password must have at least 8 characters.").WithDetail("reason", "too_short")
	}
	if n > 256 {
		return sls.Errorf(sls.CodeInvalidArgument, "The password must have at most 256 characters.").WithDetail("reason", "too_long")
	}
	return nil
}

func validateIdentity(id sls.Identity) error {
	if id.DateOfBirth != "" {
		if _, err := time.Parse("2006-01-02", id.DateOfBirth); err != nil || !datePattern.MatchString(id.DateOfBirth) {
			return invalid("The date of birth must be YYYY-MM-DD.")
		}
	}
	for name, c := range map[string]string{"citizenship": id.Citizenship, "residence": id.Residence} {
		if c != "" && !countryPattern.MatchString(c) {
			return invalid("The %s must be a 2-letter ISO 3166 country code.", name)
		}
	}
	if len(id.IDType) > 32 || len(id.IDNumber) > 64 {
		return invalid("The identity document type or number is too long.")
	}
	return nil
}

// CreateUser creates a user on an existing account.
func (s *Service) CreateUser(ctx context.Context, actor string, n NewUser) (*sls.User, error) {
	n.Username = login.NormalizeUsername(n.Username)
	n.AccountID = strings.ToUpper(n.AccountID)
	n.Identity.Citizenship, n.Identity.Residence = strings.ToUpper(n.Identity.Citizenship), strings.ToUpper(n.Identity.Residence)
	if !usernamePattern.MatchString(n.Username) {
		return nil, invalid("The username must be 3 to 64 characters: lowercase letters, digits, '.', '_' or '-'.")
	}
	if err := s.checkPassword(n.Password, false, n.Username); err != nil {
		return nil, err
	}
	if n.Mobile != "" {
		m, err := sms.CheckMobile(n.Mobile)
		if err != nil {
			return nil, err
		}
		n.Mobile = m
	}
	if n.Email != "" && (!strings.Contains(n.Email, "@") || len(n.Email) > 254) {
		return nil, invalid("The email address is not valid.")
	}
	if err := validateIdentity(n.Identity); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, n.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &sls.User{ID: sls.NewID("usr"), Username: n.Username, AccountID: n.AccountID, PasswordHash: hash, Email: n.Email,
		Mobile: n.Mobile, Identity: n.Identity, CanChangeSecurity: n.CanChangeSecurity, Lang: n.Lang, CreatedAt: now}
	idJSON, _ := json.Marshal(n.Identity)
	if u.SealedIdentity, err = s.Sealer.Seal(IdentityPlace(u.ID), idJSON); err != nil {
		return nil, err
	}
	if u.AccountID == sls.OperatorsAccount {
		return nil, invalid("Operators are added with the operator commands, not as users.")
	}
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		if _, err := tx.Account(ctx, u.AccountID); err != nil {
			if errors.Is(err, sls.ErrNotFound) {
				return sls.Errorf(sls.CodeNotFound, "Account %s does not exist.", u.AccountID)
			}
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, sls.ErrConflict) {
				return sls.Errorf(sls.CodeConflict, "Username %s is taken.", u.Username)
			}
			return err
		}
		return sls.Audit(ctx, tx, now, actor, sls.EventUserCreated, u.ID, "",
			map[string]any{"username": u.Username, "account_id": u.AccountID, "can_change_security": u.CanChangeSecurity})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// OpenIdentity returns u's identity data.
func (s *Service) OpenIdentity(u *sls.User) (sls.Identity, error) {
	var id sls.Identity
	if len(u.SealedIdentity) == 0 {
		return id, nil
	}
	b, err := s.Sealer.Open(IdentityPlace(u.ID), u.SealedIdentity)
	if err != nil {
		return id, fmt.Errorf("manage: identity of %s: %w", u.ID, err)
	}
	return id, json.Unmarshal(b, &id)
}

// UserByName finds a user by username (or by id when given "usr_…").
func (s *Service) UserByName(ctx context.Context, name string) (*sls.User, error) {
	var u *sls.User
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		u, err = LookupUser(ctx, tx, name)
		return err
	})
	return u, err
}

// LookupUser finds a user inside tx by username or by user id ("usr_…");
// an unknown name is a not_found error naming it.
func LookupUser(ctx context.Context, tx sls.Tx, name string) (*sls.User, error) {
	var u *sls.User
	var err error
	if strings.HasPrefix(name, "usr_") {
		u, err = tx.User(ctx, name)
	} else {
		u, err = tx.UserByUsername(ctx, login.NormalizeUsername(name))
	}
	if errors.Is(err, sls.ErrNotFound) {
		return nil, sls.Errorf(sls.CodeNotFound, "No user %q.", name)
	}
	return u, err
}

// Devices lists a user's devices.
func (s *Service) Devices(ctx context.Context, userID string) ([]*sls.Device, error) {
	var out []*sls.Device
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.Devices(ctx, userID)
		return err
	})
	return out, err
}

// IssuedDSCPlus is a card just issued: the device and the card file the
// emulator reads (it holds the card's key: hand it to the client's card,
// never store it elsewhere).
type IssuedDSCPlus struct {
	Device *sls.Device       `json:"device"`
	Card   *dscplus.CardFile `json:"card"`
}

// IssueDSCPlus issues a Digital Security Card+ with the PIN the client
// chose. activate=false leaves it pending (shipped cards activate on
// delivery or by themselves three weeks later — see the lifecycle feature).
// It is the building block of the order lifecycle, which has applied the
// eligibility and PIN rules when the client ordered; operators issue
// through IssueDSCPlusChecked, which applies them.
func (s *Service) IssueDSCPlus(ctx context.Context, actor, username, serial, pin string, activate bool) (*IssuedDSCPlus, error) {
	return s.issueDSCPlus(ctx, actor, username, serial, pin, activate, nil)
}

// DSCPlusRules decides whether an account may hold a Digital Security
// Card+: the same rule the client order form applies (the equity threshold
// from configuration, lifecycle.Service.CheckDSCPlusEligible). It returns
// not_eligible when the account may not.
type DSCPlusRules interface {
	CheckDSCPlusEligible(ctx context.Context, tx sls.Tx, a *sls.Account) error
}

// DSCPlusIssue is an operator's request to issue a DSC+.
type DSCPlusIssue struct {
	Username string `json:"-"`
	Serial   string `json:"serial"`
	PIN      string `json:"pin" required:"true"`
	Activate bool   `json:"activate"`
	// OverrideEligibility issues to an account below the equity threshold;
	// Reason (required with it) is recorded in the audit trail.
	OverrideEligibility bool   `json:"override_eligibility"`
	Reason              string `json:"reason"`
}

// EventDSCPlusEligibilityOverridden is audited when an operator issues a
// DSC+ to an account the eligibility rule refuses.
const EventDSCPlusEligibilityOverridden = "dscplus.eligibility_overridden"

// IssueDSCPlusChecked issues a DSC+ by operator decision under the rules
// the client order form applies: the PIN must not be trivially guessable
// (policy.CheckPIN) and the account must be eligible (s.DSCPlus) unless
// the operator overrides eligibility with a recorded reason. Without
// s.DSCPlus the rule cannot be checked and only an override issues (fail
// closed).
func (s *Service) IssueDSCPlusChecked(ctx context.Context, actor string, req DSCPlusIssue) (*IssuedDSCPlus, error) {
	if err := policy.CheckPIN(req.PIN); err != nil {
		return nil, err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.OverrideEligibility && (len(req.Reason) < 3 || len(req.Reason) > 500) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Record why eligibility is overridden (3 to 500 characters).").WithDetail("field", "reason")
	}
	if !req.OverrideEligibility && req.Reason != "" {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A reason is recorded only with override_eligibility.").WithDetail("field", "reason")
	}
	check := func(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error {
		a, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		var refusal error = sls.Errorf(sls.CodeNotEligible, "The eligibility rule for the Digital Security Card+ is not configured on this server; issue with an override and a reason.")
		if s.DSCPlus != nil {
			refusal = s.DSCPlus.CheckDSCPlusEligible(ctx, tx, a)
		}
		var se *sls.Error
		if refusal != nil && !errors.As(refusal, &se) {
			return refusal // not a refusal: the check itself failed
		}
		if refusal == nil || !req.OverrideEligibility {
			return refusal
		}
		return sls.Audit(ctx, tx, now, actor, EventDSCPlusEligibilityOverridden, u.ID, "",
			map[string]any{"account_id": a.ID, "reason": req.Reason, "refusal": se.Message})
	}
	return s.issueDSCPlus(ctx, actor, req.Username, req.Serial, req.PIN, req.Activate, check)
}

func (s *Service) issueDSCPlus(ctx context.Context, actor, username, serial, pin string, activate bool,
	check func(context.Context, sls.Tx, *sls.User, time.Time) error) (*IssuedDSCPlus, error) {
	serial = strings.ToUpper(strings.TrimSpace(serial))
	if serial == "" {
		serial = "DSC" + randomDigits(s.rand(), 9)
	}
	if !serialPattern.MatchString(serial) {
		return nil, invalid("The serial must be 4 to 32 letters, digits or '-'.")
	}
	now := s.now()
	var out *IssuedDSCPlus
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(ctx, tx, u, now); err != nil {
				return err
			}
		}
		if _, err := tx.DeviceBySerial(ctx, sls.KindDSCPlus, serial); err == nil {
			return sls.Errorf(sls.CodeConflict, "A card with serial %s exists.", serial)
		} else if !errors.Is(err, sls.ErrNotFound) {
			return err
		}
		d, card, err := dscplus.Issue(s.Sealer, s.rand(), u.ID, serial, pin, now)
		if err != nil {
			return err
		}
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceIssued, u.ID, d.ID, map[string]any{"kind": d.Kind, "serial": serial}); err != nil {
			return err
		}
		if activate {
			if err := s.ActivateInTx(ctx, tx, actor, u, d, now); err != nil {
				return err
			}
		}
		out = &IssuedDSCPlus{Device: d, Card: card}
		return nil
	})
	return out, err
}

// IssuedCard is a code card just made, to print.
type IssuedCard struct {
	Device *sls.Device   `json:"device"`
	Card   codecard.Card `json:"-"`
}

// IssueCodeCard issues a printed Security Code Card, active at once (the
// operator hands it over in person or by mail).
func (s *Service) IssueCodeCard(ctx context.Context, actor, username string) (*IssuedCard, error) {
	now := s.now()
	var out *IssuedCard
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		d, card, err := cards.NewDevice(s.Sealer, s.rand(), sls.KindCodeCard, u.ID, "SCC"+randomDigits(s.rand(), 8), now)
		if err != nil {
			return err
		}
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceIssued, u.ID, d.ID, map[string]any{"kind": d.Kind, "serial": d.Serial}); err != nil {
			return err
		}
		if err := s.ActivateInTx(ctx, tx, actor, u, d, now); err != nil {
			return err
		}
		out = &IssuedCard{Device: d, Card: card}
		return nil
	})
	return out, err
}

// IssueTempPasscode issues a temporary passcode after the operator has
// verified the client's identity by phone (verification names the call:
// who, how, reference). It is never issued twice in a row to the same
// account (SPEC §1): the client must activate another device in between.
// The code is returned once, to read to the client; only its keyed hash
// is stored.
func (s *Service) IssueTempPasscode(ctx context.Context, actor, username, verification string) (string, *sls.Device, error) {
	verification = strings.TrimSpace(verification)
	if len(verification) < 3 || len(verification) > 500 {
		return "", nil, invalid("Record how the client's identity was verified (3 to 500 characters).")
	}
	code, err := temppass.Generate(s.rand())
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	var dev *sls.Device
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		acct, err := tx.AccountForUpdate(ctx, u.AccountID)
		if err != nil {
			return err
		}
		if acct.TempPasscodeLast {
			return sls.Errorf(sls.CodeNotEligible,
				"A temporary passcode was the last access issued to account %s; another cannot follow it. The client must activate a security device (for example an Online Security Code Card) first.", acct.ID)
		}
		if _, err := tx.UserForUpdate(ctx, u.ID); err != nil {
			return err
		}
		// A new passcode replaces any earlier one of this user.
		existing, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, d := range existing {
			if d.Kind == sls.KindTempPasscode && d.State == sls.StateActive {
				d.State = sls.StateRevoked
				if err := tx.PutDevice(ctx, d); err != nil {
					return err
				}
				if err := endDeviceSessions(ctx, tx, d, sls.EndDeviceReplaced, actor, now); err != nil {
					return err
				}
			}
		}
		dev = temppass.NewDevice(s.Sealer, u.ID, code, now)
		if err := tx.CreateDevice(ctx, dev); err != nil {
			return err
		}
		acct.TempPasscodeLast = true
		if err := tx.PutAccount(ctx, acct); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventTempPasscode, u.ID, dev.ID,
			map[string]any{"identity_verification": verification, "expires_at": dev.ExpiresAt}); err != nil {
			return err
		}
		if s.Hooks != nil {
			return s.Hooks.TempPasscodeIssued(ctx, tx, u, now)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return code, dev, nil
}

// ActivateInTx makes d active inside tx and records it, running the
// device hooks (notifications, switching SMS login off for IB Key…). Other
// features activate their devices through it. Activating any device other
// than a temporary passcode lets the account receive a temporary passcode
// again.
func (s *Service) ActivateInTx(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error {
	d.State, d.ActivatedAt = sls.StateActive, now
	if d.Kind == sls.KindOnlineCard {
		d.ExpiresAt = now.Add(cards.OnlineCardValidity)
	}
	if err := tx.PutDevice(ctx, d); err != nil {
		return err
	}
	if !d.Kind.Temporary() {
		if err := expireTempPasscodes(ctx, tx, u, d, now); err != nil {
			return err
		}
	}
	if d.Kind != sls.KindTempPasscode {
		acct, err := tx.AccountForUpdate(ctx, u.AccountID)
		if err != nil {
			return err
		}
		if acct.TempPasscodeLast {
			acct.TempPasscodeLast = false
			if err := tx.PutAccount(ctx, acct); err != nil {
				return err
			}
		}
	}
	if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceActivated, u.ID, d.ID, map[string]any{"kind": d.Kind, "serial": d.Serial}); err != nil {
		return err
	}
	if s.Hooks != nil {
		return s.Hooks.DeviceActivated(ctx, tx, u, d, now)
	}
	return nil
}

// Activate activates a pending device by operator decision (for example a
// DSC+ handed over in person).
func (s *Service) Activate(ctx context.Context, actor, deviceID string) (*sls.Device, error) {
	return s.changeDevice(ctx, actor, deviceID, func(tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error {
		if d.State != sls.StatePending && d.State != sls.StateSuspended {
			return sls.Errorf(sls.CodeConflict, "Only a pending or suspended device can be activated; this one is %s.", d.State)
		}
		return s.ActivateInTx(ctx, tx, actor, u, d, now)
	})
}

// Suspend disables a device until resumed.
func (s *Service) Suspend(ctx context.Context, actor, deviceID, reason string) (*sls.Device, error) {
	return s.changeDevice(ctx, actor, deviceID, func(tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error {
		if d.State != sls.StateActive {
			return sls.Errorf(sls.CodeConflict, "Only an active device can be suspended; this one is %s.", d.State)
		}
		d.State = sls.StateSuspended
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceSuspended, u.ID, d.ID, map[string]any{"kind": d.Kind, "reason": reason}); err != nil {
			return err
		}
		// A suspended device is distrusted for now: what it opened closes
		// (resuming it does not revive them; the user logs in again).
		return endDeviceSessions(ctx, tx, d, sls.EndDeviceSuspended, actor, now)
	})
}

// Resume re-enables a suspended device.
func (s *Service) Resume(ctx context.Context, actor, deviceID string) (*sls.Device, error) {
	return s.changeDevice(ctx, actor, deviceID, func(tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error {
		if d.State != sls.StateSuspended {
			return sls.Errorf(sls.CodeConflict, "Only a suspended device can be resumed; this one is %s.", d.State)
		}
		d.State = sls.StateActive
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceResumed, u.ID, d.ID, map[string]any{"kind": d.Kind}); err != nil {
			return err
		}
		if d.Kind.Temporary() {
			return nil
		}
		return expireTempPasscodes(ctx, tx, u, d, now) // active again, like an activation
	})
}

// Revoke disables a device for good.
func (s *Service) Revoke(ctx context.Context, actor, deviceID, reason string) (*sls.Device, error) {
	return s.changeDevice(ctx, actor, deviceID, func(tx sls.Tx, u *sls.User, d *sls.Device, now time.Time) error {
		if d.State == sls.StateRevoked {
			return sls.Errorf(sls.CodeConflict, "The device is already revoked.")
		}
		d.State = sls.StateRevoked
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventDeviceRevoked, u.ID, d.ID, map[string]any{"kind": d.Kind, "reason": reason}); err != nil {
			return err
		}
		return endDeviceSessions(ctx, tx, d, sls.EndDeviceRevoked, actor, now)
	})
}

func (s *Service) changeDevice(ctx context.Context, actor, deviceID string, fn func(sls.Tx, *sls.User, *sls.Device, time.Time) error) (*sls.Device, error) {
	now := s.now()
	var out *sls.Device
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		d, err := tx.Device(ctx, deviceID)
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No device %q.", deviceID)
		}
		if err != nil {
			return err
		}
		u, err := tx.UserForUpdate(ctx, d.UserID)
		if err != nil {
			return err
		}
		if err := fn(tx, u, d, now); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

// expireTempPasscodes ends the user's temporary passcode once activated, a
// permanent device: the passcode was a bridge to it (SPEC §1), and a
// code read over the phone must not stay a way in beside the device. Its
// sessions end with it.
func expireTempPasscodes(ctx context.Context, tx sls.Tx, u *sls.User, activated *sls.Device, now time.Time) error {
	devs, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if d.Kind != sls.KindTempPasscode || (d.State != sls.StateActive && d.State != sls.StatePending && d.State != sls.StateSuspended) {
			continue
		}
		was := d.State
		d.State = sls.StateExpired
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventTempPasscodeSuperseded, u.ID, d.ID,
			map[string]any{"was": was, "by_device": activated.ID, "by_kind": activated.Kind}); err != nil {
			return err
		}
		if err := endDeviceSessions(ctx, tx, d, sls.EndDeviceExpired, sls.ActorSystem, now); err != nil {
			return err
		}
	}
	return nil
}

// EventTempPasscodeSuperseded is audited when a temporary passcode expires
// because a permanent device of its user became active.
const EventTempPasscodeSuperseded = "temppasscode.superseded"

// LockForever is how long an operator lock lasts: until an operator
// unlocks the user.
const LockForever = 100 * 365 * 24 * time.Hour

// Lock locks a user by operator decision (for example a suspected account
// takeover) until an operator unlocks them, and ends all of the user's
// sessions. reason is recorded in the audit trail.
func (s *Service) Lock(ctx context.Context, actor, username, reason string) (*sls.User, error) {
	reason = strings.TrimSpace(reason)
	if len(reason) < 3 || len(reason) > 500 {
		return nil, invalid("Record why the user is locked (3 to 500 characters).")
	}
	return s.changeUser(ctx, username, func(tx sls.Tx, u *sls.User, now time.Time) error {
		u.LockedUntil = now.Add(LockForever)
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, sls.EventLockout, u.ID, "", map[string]any{"reason": reason, "until": u.LockedUntil, "by": "operator"}); err != nil {
			return err
		}
		_, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: u.ID}, sls.EndUserLocked, actor, now)
		return err
	})
}

// Unlock clears a user's lockout and failure count.
func (s *Service) Unlock(ctx context.Context, actor, username string) (*sls.User, error) {
	return s.changeUser(ctx, username, func(tx sls.Tx, u *sls.User, now time.Time) error {
		wasLocked := u.Locked(now)
		u.LockedUntil, u.FailedAnswers, u.FailedPasswords, u.UntrustedUntil = time.Time{}, 0, 0, time.Time{}
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, sls.EventUnlock, u.ID, "", map[string]any{"was_locked": wasLocked})
	})
}

// changeUser runs fn on the user named username, its row locked, in one
// transaction, and returns the user as fn left it.
func (s *Service) changeUser(ctx context.Context, username string, fn func(sls.Tx, *sls.User, time.Time) error) (*sls.User, error) {
	now := s.now()
	var out *sls.User
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		if u, err = tx.UserForUpdate(ctx, u.ID); err != nil {
			return err
		}
		if err := fn(tx, u, now); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// RequestOnlineCard makes a new Online Security Code Card for the user,
// pending until activated with two of its values (which proves it was
// printed). An earlier pending card is replaced.
func (s *Service) RequestOnlineCard(ctx context.Context, userID string) (*IssuedCard, error) {
	now := s.now()
	var out *IssuedCard
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		existing, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, d := range existing {
			if d.Kind == sls.KindOnlineCard && d.State == sls.StatePending {
				d.State = sls.StateRevoked
				if err := tx.PutDevice(ctx, d); err != nil {
					return err
				}
			}
		}
		d, card, err := cards.NewDevice(s.Sealer, s.rand(), sls.KindOnlineCard, u.ID, "OSC"+randomDigits(s.rand(), 8), now)
		if err != nil {
			return err
		}
		if _, err := cards.NextPair(s.rand(), d, card); err != nil { // the pair the activation screen will ask
			return err
		}
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventDeviceIssued, u.ID, d.ID, map[string]any{"kind": d.Kind, "serial": d.Serial}); err != nil {
			return err
		}
		out = &IssuedCard{Device: d, Card: card}
		return nil
	})
	return out, err
}

// OnlineCard returns the user's newest online card that is pending or
// active, with its values (for printing) and the activation pair.
func (s *Service) OnlineCard(ctx context.Context, userID string) (*sls.Device, codecard.Card, [2]int, error) {
	var dev *sls.Device
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		ds, err := tx.Devices(ctx, userID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Kind == sls.KindOnlineCard && (d.State == sls.StatePending || d.State == sls.StateActive) {
				dev = d
			}
		}
		if dev == nil {
			return sls.Errorf(sls.CodeNotFound, "You have no Online Security Code Card. Request one first.")
		}
		return nil
	})
	if err != nil {
		return nil, codecard.Card{}, [2]int{}, err
	}
	card, err := cards.OpenCard(s.Sealer, dev)
	if err != nil {
		return nil, codecard.Card{}, [2]int{}, err
	}
	return dev, card, lastPair(dev), nil
}

func lastPair(d *sls.Device) [2]int {
	var st struct {
		Last [2]int `json:"last"`
	}
	_ = json.Unmarshal(d.FactorState, &st)
	return st.Last
}

// ActivateOnlineCard activates the user's pending online card when answer
// holds the values at the two index numbers shown. The answer goes
// through the one verifier v (package verify): a wrong one counts toward
// the user's lockout like a failed login answer.
func (s *Service) ActivateOnlineCard(ctx context.Context, userID, deviceID, answer string, v *verify.Verifier) (*sls.Device, error) {
	now := s.now()
	var out *sls.Device
	var outcome error
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		outcome = nil
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		d, err := tx.Device(ctx, deviceID)
		if err != nil || d.UserID != u.ID || d.Kind != sls.KindOnlineCard {
			return sls.Errorf(sls.CodeNotFound, "No such Online Security Code Card.")
		}
		if d.State != sls.StatePending {
			return sls.Errorf(sls.CodeConflict, "This card is %s, not waiting for activation.", d.State)
		}
		// The challenge is the pair on the print page; it lives as long as
		// this call.
		c := &sls.Challenge{Purpose: sls.PurposeActivation, UserID: u.ID, DeviceID: d.ID, CreatedAt: now, Deadline: now.Add(time.Minute)}
		cards.Pending(d, c)
		res, err := v.Answer(ctx, tx, u, d, c, answer, now)
		if err != nil {
			return err
		}
		if !res.OK() {
			outcome = res.Refusal
			return nil
		}
		if err := s.ActivateInTx(ctx, tx, sls.ActorUser(u.ID), u, d, now); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err == nil && outcome != nil {
		return nil, outcome
	}
	return out, err
}

func randomDigits(r io.Reader, n int) string {
	d, err := factor.Digits(r, n)
	if err != nil {
		panic(err) // the system's randomness failed: nothing safe can go on
	}
	return d
}

// hash hashes password inside the hashing gate (a gate that stays full
// answers 503 with Retry-After).
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	return s.Hashing.Hash(ctx, []byte(password), s.Argon)
}
