// Package ibkey is the IB Key protocol shared by the server and the
// authenticator app (cmd/ibkey): the activation ticket and its QR payload,
// the key agreement that gives server and app the offline-response key,
// the signed messages the app sends (push approvals, Add User proofs,
// re-authentication), the challenge/response computation, the wrapping of
// the app's secrets under its PIN, and the JSON bodies of the API.
//
// The design goal that shapes everything here: a copy of the app's state
// file without the PIN must not approve a push or answer a challenge, and
// every PIN guess must reach the server, which counts it toward the user's
// lockout. So the app wraps its keys under the PIN without any integrity
// check — every PIN "decrypts" to some key, and only the server can tell
// the right one from a signature or a response. docs/ibkey.md describes
// the protocol in full.
package ibkey

// Version is the protocol version carried in activation strings and signed
// messages.
const Version = 1

// Platforms of an app instance. Android unlocks with a PIN; iOS with the
// device unlock (Face ID, fingerprint or passcode), which counts as
// biometric for the access duration (SPEC §2.5).
const (
	PlatformAndroid = "android"
	PlatformIOS     = "ios"
)

// How the user unlocked the app for an answer.
const (
	UnlockPIN       = "pin"
	UnlockBiometric = "biometric"
)

// Decisions of a push answer.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)
