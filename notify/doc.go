// Package notify sends outbound notifications — one-time codes by SMS and
// voice, security notices by email, SMS and push — and holds the localised
// texts of every message SLS sends.
//
// The package is deliberately free of storage: the durable outbox (queue,
// retries, backoff) lives with the database code and calls a Sender. What is
// here decides what a message says (Render, the templates in English,
// Spanish, simplified Chinese and Hungarian), who may receive which kind
// (Preferences), how a phone number is checked (NormalizeE164, ValidE164, Region, CheckReceiver, on libphonenumber's metadata),
// and how a failure is classified: an error marked Permanent will never
// succeed on retry (bad number, rejected by the provider), any other error is
// worth retrying (timeouts, 5xx, 429).
//
// Adapters live in sub-packages, one per technology: webhook (signed HTTPS
// POST, also the base of the push gateway), twilio (SMS and voice) and
// smtpmail (email).
//
// Secure messages are never sent in full: SecureMessage keeps its body out of
// reach of every outbound path and SecureMessageNotice sends the summary only
// (SPEC §8).
package notify
