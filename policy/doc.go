// Package policy holds the account-protection rules of the Secure Login
// System as pure functions: withdrawal limits by device over rolling windows
// (SPEC §4), the other benefits of SLS participation, opting out and back in,
// IP restrictions and device sharing (SPEC §5), the ordering and lifecycle of
// physical devices (SPEC §6) and the lifetimes of temporary access (SPEC §1).
//
// Nothing here touches a database, the network or the clock: the service
// layer loads the facts (devices, withdrawal history, identity data), passes
// the current time in, and stores whatever the rule decides. That keeps every
// rule table-testable and lets several nodes agree on an answer.
//
// Money is always an integer number of minor units; every "USD" amount in
// this package is in US cents (see Dollar), never a float.
//
// Refusals a client may see are *sls.Error values. Those that come from a
// policy condition carry Detail["condition"] (DetailCondition) with a stable
// value from the Cond… constants, so the API and the portal can react to the
// condition without parsing messages.
package policy
