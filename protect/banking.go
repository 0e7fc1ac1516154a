package protect

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/takeover"
)

// A change of banking instructions — the account withdrawals may be paid
// to — is what an account takeover aims at after the password. SLS
// decides whether one may happen now and records it; the brokerage's
// systems apply it once SLS said yes. It needs, in one session:
//
//   - an SLS participant (SPEC §4's benefit: others go through the
//     Security Team);
//   - no cool-down after a security change (package takeover);
//   - a confirmation with a security device that signed the new account
//     (dynamic linking, PSD2 RTS Art. 5): the DSC+ and IB Key sign the
//     account's last four digits, an IB Key push shows the account.

// EventBankingChanged records a change of banking instructions.
const EventBankingChanged = "banking.changed"

// BankingConfirmationRequest starts a confirmation of a new banking
// instruction with one device.
type BankingConfirmationRequest struct {
	DeviceID string `json:"device_id" required:"true"`
	// Payee is the new account (an IBAN or account number).
	Payee string `json:"payee" required:"true"`
}

// BankingChangeRequest records a confirmed change.
type BankingChangeRequest struct {
	Payee          string `json:"payee" required:"true"`
	ConfirmationID string `json:"confirmation_id" required:"true"`
}

// BankingChange is a change SLS allowed and recorded.
type BankingChange struct {
	Changed    bool           `json:"changed"`
	Payee      string         `json:"payee"`
	DeviceKind sls.DeviceKind `json:"device_kind"`
	At         time.Time      `json:"at"`
}

func requirePayee(p string) (string, error) {
	payee, err := NormalizePayee(p)
	if err == nil && payee == "" {
		err = sls.Errorf(sls.CodeInvalidArgument, "Name the new account (payee).").WithDetail("field", "payee")
	}
	return payee, err
}

// StartBankingConfirmation challenges a device to sign a new banking
// instruction.
func (s *Service) StartBankingConfirmation(ctx context.Context, sess *sls.Session, u *sls.User, req BankingConfirmationRequest) (*StepUpStart, error) {
	payee, err := requirePayee(req.Payee)
	if err != nil {
		return nil, err
	}
	return s.startConfirmation(ctx, sess, u, req.DeviceID, sls.PurposeBankingChange, sls.Binding{SessionID: sess.ID, Payee: payee})
}

// ChangeBanking checks and records a change of banking instructions, and
// tells the client on every channel (with a "this wasn't me" link).
func (s *Service) ChangeBanking(ctx context.Context, sess *sls.Session, user *sls.User, req BankingChangeRequest) (*BankingChange, error) {
	payee, err := requirePayee(req.Payee)
	if err != nil {
		return nil, err
	}
	if len(req.ConfirmationID) > 128 {
		return nil, sls.Errorf(sls.CodeNotFound, "Unknown confirmation.")
	}
	now := s.now()
	var out *BankingChange
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID)
		if err != nil {
			return err
		}
		if err := policy.CanChangeBankingOrEmail(inSLS(u)); err != nil {
			return err
		}
		if cd, err := s.coolDown(ctx, tx, u, now); err != nil {
			return err
		} else if cd != nil {
			return bankingWaits(cd)
		}
		su, err := tx.StepUpForUpdate(ctx, sls.TokenHash(req.ConfirmationID))
		if errors.Is(err, sls.ErrNotFound) || (err == nil && (su.UserID != u.ID || su.Bound.SessionID != sess.ID || su.Purpose != sls.PurposeBankingChange)) {
			return sls.Errorf(sls.CodeNotFound, "Unknown confirmation.")
		}
		if err != nil {
			return err
		}
		switch {
		case su.VerifiedAt.IsZero():
			return sls.Errorf(sls.CodeForbidden, "This confirmation has not been answered yet.")
		case !su.UsedAt.IsZero():
			return sls.Errorf(sls.CodeConflict, "This confirmation was already used.")
		case !now.Before(su.VerifiedAt.Add(s.cfg().StepUpValidity)):
			return sls.Errorf(sls.CodeForbidden, "This confirmation has expired; confirm the change again.")
		case subtle.ConstantTimeCompare([]byte(payee), []byte(su.Bound.Payee)) != 1:
			return sls.Errorf(sls.CodeInvalidArgument, "The confirmation was given for another account (%s).", MaskPayee(su.Bound.Payee))
		}
		su.UsedAt = now
		if err := tx.PutStepUp(ctx, su); err != nil {
			return err
		}
		out = &BankingChange{Changed: true, Payee: payee, DeviceKind: su.DeviceKind, At: now}
		if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventBankingChanged, u.ID, su.DeviceID,
			map[string]any{"payee": MaskPayee(payee), "device_kind": su.DeviceKind, "session_id": sess.ID, "ip": sess.ClientIP}); err != nil {
			return err
		}
		if s.Notifier == nil {
			return nil
		}
		return sls.TellEverywhere(ctx, tx, s.Notifier, u, sls.Notification{UserID: u.ID, Kind: sls.NoteBankingChanged,
			Data: map[string]string{"Account": MaskPayee(payee), "Time": now.UTC().Format("2006-01-02 15:04 MST")}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bankingWaits is the refusal of a banking change during a cool-down (the
// check and the change say the same).
func bankingWaits(cd *sls.CoolDown) *sls.Error {
	return sls.Errorf(sls.CodeForbidden, "Banking instructions cannot be changed until %s: a security change on %s (%s) started a cool-down. Client Services can lift it once they have checked the change with you.",
		cd.Until.UTC().Format("2006-01-02 15:04 MST"), cd.StartedAt.UTC().Format("2006-01-02 15:04 MST"), strings.ReplaceAll(cd.Reason, "_", " ")).
		WithDetail(policy.DetailCondition, takeover.BasisCoolDown).WithDetail("cool_down_until", cd.Until.Format(time.RFC3339))
}
