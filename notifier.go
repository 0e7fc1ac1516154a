package sls

import "context"

// Notification kinds shared across features. The notify package holds a
// template for each kind in every supported language.
const (
	NoteLoginCodeSMS         = "login_code_sms"         // SMS login code
	NoteLoginCodeVoice       = "login_code_voice"       // voice call reading the login code
	NotePhoneVerifyCode      = "phone_verify_code"      // confirmation code for a mobile number
	NoteIBKeyActivationCode  = "ibkey_activation_code"  // SMS code for IB Key "Add User"
	NoteTempPasscodeIssued   = "temp_passcode_issued"   // Client Services issued a temporary passcode
	NoteDeviceActivated      = "device_activated"       // a new security device was activated
	NoteNewLogin             = "new_login"              // login from a new device or platform
	NoteDeviceShipped        = "device_shipped"         // a DSC+ was shipped
	NoteDeviceDelivered      = "device_delivered"       // a DSC+ was delivered
	NoteAutoActivationComing = "auto_activation_coming" // a delivered DSC+ will activate by itself soon
	NoteDeviceAutoActivated  = "device_auto_activated"  // a delivered DSC+ activated by itself
	NotePhoneNumberChanged   = "phone_number_changed"   // the mobile number changed (to the old number and email)
	NotePushDenied           = "push_denied"            // an IB Key push was denied
	NotePushFlood            = "push_flood"             // too many unanswered or denied pushes
	NoteSecureMessage        = "secure_message_summary" // a secure message waits in the message center
	NoteDepositForfeited     = "deposit_forfeited"      // the device deposit was kept
	NoteDepositReleased      = "deposit_released"       // the device deposit was released
	NoteReturnReceived       = "return_received"        // a returned device arrived
	NoteLoginRefusedIP       = "login_refused_ip"       // the right password from an address outside the IP restrictions
	NotePasswordGuessing     = "password_guessing"      // many wrong passwords; unknown browsers and apps held off
	NotePasswordChanged      = "password_changed"       // the password was changed or reset (every channel)
	NotePasswordResetCode    = "password_reset_code"    // the one-time code of a password reset (to the user's own number and email)
	NoteTakeoverReported     = "takeover_reported"      // the user reported "this wasn't me"; the account is locked (every channel)
	NoteSecurityAlert        = "security_alert"         // to the Security Team: a user reported a takeover
	NoteBankingChanged       = "banking_changed"        // banking instructions changed (every channel)
)

// Notification is a message to a user, queued inside the transaction of
// the event that causes it, so it is sent if and only if the event
// commits.
type Notification struct {
	UserID string
	Kind   string
	// Data fills the template (never secrets except the code of a code
	// message, which only ever goes to the channel named in Channel).
	Data map[string]string
	// Channel, when set, forces one channel ("sms", "voice", "email",
	// "push") instead of the user's message-center preferences — used for
	// codes, which must reach the verified number.
	Channel string
	// To, when set, overrides the destination (for example the old mobile
	// number after a change).
	To string
	// User, when set, is the user UserID names as the caller's
	// transaction holds it (read and locked there): the notifier uses it
	// instead of reading the row again.
	User *User
}

// Notifier queues notifications (package notify's outbox implements it).
type Notifier interface {
	Notify(ctx context.Context, tx Tx, n Notification) error
}

// TellEverywhere sends note to the user's verified mobile number and email
// address, each, or to their message-center preferences when they have
// neither: what a change an attacker would want hidden deserves.
func TellEverywhere(ctx context.Context, tx Tx, n Notifier, u *User, note Notification) error {
	var channels []string
	if u.Mobile != "" && !u.MobileVerifiedAt.IsZero() {
		channels = append(channels, "sms")
	}
	if u.Email != "" {
		channels = append(channels, "email")
	}
	for _, ch := range channels {
		note.Channel = ch
		if err := n.Notify(ctx, tx, note); err != nil {
			return err
		}
	}
	if len(channels) == 0 {
		note.Channel = "" // the user's preferences (message center, push)
		return n.Notify(ctx, tx, note)
	}
	return nil
}
