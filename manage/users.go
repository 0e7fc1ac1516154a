package manage

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

// Events of the user lifecycle. Strings are stored; never rename one.
const (
	EventUserUpdated  = "user.updated"
	EventUserDisabled = "user.disabled"
	EventUserEnabled  = "user.enabled"
	EventUserDeleted  = "user.deleted"
)

// UserUpdate changes a user's data; a nil field is left as it is. The
// mobile number changes through its own route (the SMS rules), the
// password through a change or a reset.
type UserUpdate struct {
	Email             *string       `json:"email,omitempty"`
	Identity          *sls.Identity `json:"identity,omitempty"`
	CanChangeSecurity *bool         `json:"can_change_security,omitempty"`
	Lang              *string       `json:"lang,omitempty"`
}

func reasonText(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if len(reason) < 3 || len(reason) > 500 {
		return "", invalid("Record why (3 to 500 characters).")
	}
	return reason, nil
}

// notDeleted refuses changes to a deleted user.
func notDeleted(u *sls.User) error {
	if !u.DeletedAt.IsZero() {
		return sls.Errorf(sls.CodeConflict, "User %s was deleted.", u.Username)
	}
	return nil
}

// UpdateUser changes a user's email, identity data, security permission
// or language; the audit entry names what changed (never the values of
// identity data).
func (s *Service) UpdateUser(ctx context.Context, actor, username string, up UserUpdate) (*sls.User, error) {
	if up.Email == nil && up.Identity == nil && up.CanChangeSecurity == nil && up.Lang == nil {
		return nil, invalid("Name at least one thing to change: email, identity, can_change_security or lang.")
	}
	if up.Email != nil && *up.Email != "" && (!strings.Contains(*up.Email, "@") || len(*up.Email) > 254) {
		return nil, invalid("The email address is not valid.")
	}
	if up.Lang != nil && len(*up.Lang) > 35 {
		return nil, invalid("The language must be a BCP 47 tag, like en or zh-Hans.")
	}
	var sealedID []byte
	if up.Identity != nil {
		id := *up.Identity
		id.Citizenship, id.Residence = strings.ToUpper(id.Citizenship), strings.ToUpper(id.Residence)
		if err := validateIdentity(id); err != nil {
			return nil, err
		}
		up.Identity = &id
	}
	return s.changeUser(ctx, username, func(tx sls.Tx, u *sls.User, now time.Time) error {
		if err := notDeleted(u); err != nil {
			return err
		}
		var changed []string
		if up.Email != nil && *up.Email != u.Email {
			u.Email, changed = *up.Email, append(changed, "email")
		}
		if up.Identity != nil {
			b, _ := json.Marshal(*up.Identity)
			var err error
			if sealedID, err = s.Sealer.Seal(IdentityPlace(u.ID), b); err != nil {
				return err
			}
			u.SealedIdentity, changed = sealedID, append(changed, "identity")
		}
		if up.CanChangeSecurity != nil && *up.CanChangeSecurity != u.CanChangeSecurity {
			u.CanChangeSecurity, changed = *up.CanChangeSecurity, append(changed, "can_change_security")
		}
		if up.Lang != nil && *up.Lang != u.Lang {
			u.Lang, changed = *up.Lang, append(changed, "lang")
		}
		if len(changed) == 0 {
			return nil
		}
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventUserUpdated, u.ID, "", map[string]any{"changed": changed})
	})
}

// SetUserDisabled disables a user (no login until enabled; every session
// ends) or enables them again.
func (s *Service) SetUserDisabled(ctx context.Context, actor, username, reason string, disabled bool) (*sls.User, error) {
	reason, err := reasonText(reason)
	if err != nil {
		return nil, err
	}
	return s.changeUser(ctx, username, func(tx sls.Tx, u *sls.User, now time.Time) error {
		if err := notDeleted(u); err != nil {
			return err
		}
		if u.DisabledAt.IsZero() != disabled {
			return sls.Errorf(sls.CodeConflict, "User %s is already %s.", u.Username, map[bool]string{true: "disabled", false: "enabled"}[disabled])
		}
		event := EventUserEnabled
		u.DisabledAt = time.Time{}
		if disabled {
			event, u.DisabledAt = EventUserDisabled, now
		}
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, event, u.ID, "", map[string]any{"reason": reason}); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		_, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: u.ID}, sls.EndUserDisabled, actor, now)
		return err
	})
}

// DeleteUser deletes a user: every session ends, every device is
// revoked, the personal data (email, mobile number, identity data, the
// password) is erased, and the username stays reserved so that the audit
// trail, which is kept, never points at someone else.
func (s *Service) DeleteUser(ctx context.Context, actor, username, reason string) (*sls.User, error) {
	reason, err := reasonText(reason)
	if err != nil {
		return nil, err
	}
	// A password nobody knows, hashed like any other: a deleted user's
	// login costs what anyone's does and matches nothing.
	unusable, err := s.hash(ctx, sls.NewToken("deleted"))
	if err != nil {
		return nil, err
	}
	return s.changeUser(ctx, username, func(tx sls.Tx, u *sls.User, now time.Time) error {
		if err := notDeleted(u); err != nil {
			return err
		}
		devices, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return err
		}
		revoked := 0
		for _, d := range devices {
			if d.State == sls.StateRevoked || d.State == sls.StateExpired {
				continue
			}
			d.State, d.Secret = sls.StateRevoked, nil
			if err := tx.PutDevice(ctx, d); err != nil {
				return err
			}
			revoked++
		}
		if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: u.ID}, sls.EndUserDisabled, actor, now); err != nil {
			return err
		}
		u.PasswordHash, u.Email, u.Mobile, u.MobileVerifiedAt, u.SealedIdentity = unusable, "", "", time.Time{}, nil
		u.DeletedAt = now
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventUserDeleted, u.ID, "", map[string]any{"reason": reason, "devices_revoked": revoked})
	})
}
