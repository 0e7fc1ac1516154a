// Package protect is the account-protection service around the rules of
// package policy: withdrawal limits by device over rolling windows, booked
// atomically so that several nodes never let two withdrawals together pass
// a limit (SPEC §4); the other benefits of SLS participation as checks in
// the same style (changing banking instructions or email, ACH/EFT funding
// beyond the initial USD 20,000); opting out of and back into SLS, IP
// restrictions for trading-platform logins, the penny-stock permission and
// device sharing (SPEC §5); and the login Gate that enforces IP
// restrictions.
//
// The rules themselves live in package policy; this package loads the
// facts from the store, passes the time in, stores what the rules decide
// and audits every change. Exchange rates and holidays are operator data
// kept in the database, so every node converts and counts business days
// the same way.
package protect
