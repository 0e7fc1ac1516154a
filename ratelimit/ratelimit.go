// Package ratelimit bounds how often one client address or one user may
// try something that an attacker would try many times: passwords,
// second-factor answers, activation tickets, SMS/voice sends and the
// operator API. The buckets live in the database (sls.RateLimitStore), so
// several nodes on one PostgreSQL share every limit: an attacker gains
// nothing by spreading requests over nodes.
//
// Limits are the first of NIST SP 800-63B §5.2.2's rate-limiting
// measures and OWASP's Credential Stuffing Prevention cheat sheet's
// "rate limit by IP address"; the per-user lock-out (sls.Lockout) is the
// second line.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"time"

	sls "github.com/secure-login-system/sls"
)

// Rule names. A caller names the rule and gives the key (an address, a
// user id, an address and a username); keys are hashed before they are
// stored, so the table holds no usernames.
const (
	// PasswordAddress limits password checks per client address: it
	// slows credential stuffing and password spraying from one host.
	PasswordAddress = "password_per_address"
	// PasswordAccount limits password checks per (client address,
	// username): it slows a dictionary aimed at one user far below what
	// locks the user, without letting others lock them out.
	PasswordAccount = "password_per_address_user"
	// SecondFactorUser limits device selections and second-factor
	// answers per user (login and session step-up).
	SecondFactorUser = "second_factor_per_user"
	// ActivationAddress limits IB Key activation-ticket use per address.
	ActivationAddress = "activation_per_address"
	// SMSAddress limits SMS and voice code sends per client address.
	SMSAddress = "sms_per_address"
	// OperatorAddress limits operator API requests per address.
	OperatorAddress = "operator_per_address"
	// OIDCAuthorizeAddress limits OpenID Connect authorization requests
	// per client address: each one is kept in the database until it
	// expires, so anonymous requests must not be free.
	OIDCAuthorizeAddress = "oidc_authorize_per_address"
	// ReportAddress limits "this wasn't me" reports per client address:
	// links carry 256 random bits, so guessing is hopeless anyway; the
	// rule keeps a flood of made-up links from costing anything.
	ReportAddress = "report_per_address"
	// DiagnosticsAddress limits diagnostics uploads per client address:
	// the upload is open to anyone from a platform's login screen and
	// each one costs up to tens of MB of disk.
	DiagnosticsAddress = "diagnostics_per_address"
)

// Rule is a rate with a burst: Rate events per Per on average, and at
// most Burst at once after a quiet time. A zero Rate switches the rule
// off.
type Rule struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// Interval is the time one token takes to come back.
func (r Rule) Interval() time.Duration {
	if r.Rate <= 0 || r.Per <= 0 {
		return 0
	}
	return r.Per / time.Duration(r.Rate)
}

// Validate checks a rule: a rate needs a period, and the burst is at
// least one event.
func (r Rule) Validate() error {
	if r.Rate < 0 || r.Burst < 0 {
		return fmt.Errorf("rate and burst must not be negative")
	}
	if r.Rate > 0 && (r.Per <= 0 || r.Burst < 1 || r.Interval() <= 0) {
		return fmt.Errorf("a rate needs a period and a burst of at least 1")
	}
	return nil
}

// Defaults are the built-in rules (docs/configuration.md explains each
// number and its source).
func Defaults() map[string]Rule {
	return map[string]Rule{
		// OWASP Credential Stuffing Prevention: limit per address; 20 a
		// minute with a burst of 10 leaves room for a household or small
		// office behind one address, and cuts a single host from
		// ~1,800 guesses a minute to 20.
		PasswordAddress: {Rate: 20, Per: time.Minute, Burst: 10},
		// NIST SP 800-63B §5.2.2: at most 100 consecutive failures per
		// account; 5 a minute per (address, user) keeps one source far
		// below that while a person mistyping is never slowed.
		PasswordAccount: {Rate: 5, Per: time.Minute, Burst: 5},
		// Answers: a person answers a few challenges per login; 10 a
		// minute per user bounds online guessing of 6-digit responses.
		SecondFactorUser: {Rate: 10, Per: time.Minute, Burst: 10},
		// Activation tickets are single-use and typed by a person.
		ActivationAddress: {Rate: 10, Per: time.Hour, Burst: 5},
		// SMS pumping (OWASP Authentication cheat sheet; costs money per
		// message): 5 sends per 10 minutes per address.
		SMSAddress: {Rate: 5, Per: 10 * time.Minute, Burst: 5},
		// Operator tooling makes bursts of calls but never floods.
		OperatorAddress: {Rate: 600, Per: time.Minute, Burst: 100},
		// A person signs in to a few applications at a time; 60 a minute
		// with a burst of 30 serves an office behind one address and
		// bounds what one host can make the database keep.
		OIDCAuthorizeAddress: {Rate: 60, Per: time.Minute, Burst: 30},
		// A client reports once; a household a few times. OWASP
		// Authentication Cheat Sheet: throttle every unauthenticated
		// endpoint that changes state.
		ReportAddress: {Rate: 10, Per: time.Hour, Burst: 5},
		// A client uploads when asked to, a few times while a problem is
		// chased; 10 an hour with a burst of 5 bounds one host to about
		// 600 MB an hour at the largest bundle (OWASP ASVS 4.0.3 V12.1.1,
		// V11.1.4 anti-automation).
		DiagnosticsAddress: {Rate: 10, Per: time.Hour, Burst: 5},
	}
}

// Limiter applies named rules.
type Limiter struct {
	store sls.Store
	clock sls.Clock
	rules map[string]Rule
}

// New returns a limiter with rules (Defaults with the deployment's
// changes); rules it does not know are off.
func New(store sls.Store, clock sls.Clock, rules map[string]Rule) (*Limiter, error) {
	for name, r := range rules {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("ratelimit: %s: %w", name, err)
		}
	}
	return &Limiter{store: store, clock: clock, rules: rules}, nil
}

// Take takes one event of rule for key in its own transaction, so the
// event counts whatever happens next. Call it outside any transaction
// (SQLite has one writer). It returns an sls.CodeRateLimited error with
// Detail["retry_after_seconds"] when the key is over its limit; a nil
// Limiter limits nothing.
func (l *Limiter) Take(ctx context.Context, rule, key string) error {
	if l == nil {
		return nil
	}
	var err error
	if uerr := l.store.Update(ctx, func(tx sls.Tx) error {
		err = l.TakeIn(ctx, tx, rule, key)
		return nil // a refusal changed nothing; there is nothing to roll back
	}); uerr != nil {
		return uerr
	}
	return err
}

// Peek reports, like Take, whether key is over rule's limit, without
// counting an event: the caller Takes only when what it guards fails
// (FTP logins count wrong passwords only). It only reads.
func (l *Limiter) Peek(ctx context.Context, rule, key string) error {
	if l == nil {
		return nil
	}
	return l.store.Read(ctx, func(tx sls.Tx) error { return l.PeekIn(ctx, tx, rule, key) })
}

// PeekIn is Peek with the caller's transaction (or Store.Read). Peeking
// before costly work and taking with its outcome (TakeIn) lets a few
// requests already in flight pass the limit, at most one per request
// running at once; the work they do is bounded elsewhere (passhash.Gate).
func (l *Limiter) PeekIn(ctx context.Context, tx sls.Tx, rule, key string) error {
	if l == nil {
		return nil
	}
	r, ok := l.rules[rule]
	if !ok || r.Rate == 0 {
		return nil
	}
	allowed, wait, err := tx.PeekRateToken(ctx, bucket(rule, key), l.clock.Now(), r.Interval(), r.Burst)
	if err != nil || allowed {
		return err
	}
	return Refusal(wait).WithDetail("limit", rule)
}

// TakeIn is Take inside the caller's transaction: the event counts only
// if that transaction commits.
func (l *Limiter) TakeIn(ctx context.Context, tx sls.Tx, rule, key string) error {
	if l == nil {
		return nil
	}
	r, ok := l.rules[rule]
	if !ok || r.Rate == 0 {
		return nil
	}
	allowed, wait, err := tx.TakeRateToken(ctx, bucket(rule, key), l.clock.Now(), r.Interval(), r.Burst)
	if err != nil {
		return err
	}
	if allowed {
		return nil
	}
	return Refusal(wait).WithDetail("limit", rule)
}

// Refusal is the error of a request over its limit: code rate_limited,
// the wait in whole seconds (rounded up, at least 1) in
// Detail["retry_after_seconds"], which the HTTP edge sends as Retry-After.
func Refusal(wait time.Duration) *sls.Error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return sls.Errorf(sls.CodeRateLimited, "Too many attempts. Please wait %d seconds and try again.", secs).
		WithDetail("retry_after_seconds", secs)
}

// Purge removes buckets that are full again (the same as no bucket). The
// server runs it as a scheduled job.
func (l *Limiter) Purge(ctx context.Context, now time.Time) error {
	return l.store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.DeleteRateLimitsBefore(ctx, now)
		return err
	})
}

// bucket is the stored key: the rule and a hash of the key, so that the
// table holds no usernames or addresses.
func bucket(rule, key string) string {
	h := sha256.Sum256([]byte(rule + "\x00" + key))
	return rule + ":" + hex.EncodeToString(h[:16])
}

// AccountKey is the key of PasswordAccount: the address and the username
// as typed (case-folded by the caller).
func AccountKey(addr, username string) string { return AddressKey(addr) + "\x00" + username }

// AddressKey is the key of a client address for the per-address rules:
// an IPv4 address as it is, an IPv6 address as its /64. One subscriber
// usually holds a whole /64 (RFC 6177), so counting single IPv6
// addresses would let one client rotate through 2^64 of them and never
// be limited. Anything that is not an address is its own key.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
