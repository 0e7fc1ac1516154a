package sls

import (
	"context"
	"encoding/json"
	"time"

	"github.com/secure-login-system/sls/audit"
)

// Event names of the audit trail. Strings are stored; never rename one.
const (
	EventLoginSuccess      = "login.success"
	EventLoginFailed       = "login.failed"        // bad password or unknown user
	EventSecondFactorFail  = "login.factor_failed" // wrong second-factor answer
	EventLockout           = "user.locked"
	EventUnlock            = "user.unlocked"
	EventAccountCreated    = "account.created"
	EventUserCreated       = "user.created"
	EventDeviceIssued      = "device.issued"
	EventDeviceActivated   = "device.activated"
	EventDeviceRevoked     = "device.revoked"
	EventDeviceSuspended   = "device.suspended"
	EventDeviceResumed     = "device.resumed"
	EventTempPasscode      = "temppasscode.issued"
	EventSessionEnded      = "session.ended"
	EventLoginRefused      = "login.refused" // correct credentials but not allowed (locked, IP, scope)
	EventOperatorTokenMade = "operator.token_created"
)

// Actor strings for the audit trail.
const ActorSystem = "system"

// ActorUser and ActorOperator name who acted.
func ActorUser(id string) string       { return "user:" + id }
func ActorOperator(name string) string { return "operator:" + name }

// Audit appends one event to the trail inside tx. detail must never hold
// secrets (codes, passwords, keys): it is shown to operators.
func Audit(ctx context.Context, tx Tx, now time.Time, actor, event, userID, deviceID string, detail map[string]any) error {
	var d string
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		d = string(b)
	}
	return tx.AppendAudit(ctx, &audit.Entry{At: now, Actor: actor, Event: event, UserID: userID, DeviceID: deviceID, Detail: d})
}
