package config

import (
	"runtime"
	"time"

	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
)

// RateRule is one rate limit in the file: rate events per period with a
// burst, e.g. {"rate": 20, "per": "1m", "burst": 10}. {"rate": 0}
// switches the rule off.
type RateRule struct {
	Rate  int      `json:"rate"`
	Per   Duration `json:"per,omitempty"`
	Burst int      `json:"burst,omitempty"`
}

// LimitsSection is the "limits" section: rate limits, the trusted
// proxies and the bound on concurrent password hashing. Every field is
// optional; a rule given replaces that rule's default as a whole.
type LimitsSection struct {
	// TrustedProxies are CIDRs (or addresses) of reverse proxies whose
	// X-Forwarded-For / Forwarded headers are believed. Default: none.
	TrustedProxies []string `json:"trusted_proxies,omitempty"`

	PasswordPerAddress     *RateRule `json:"password_per_address,omitempty"`
	PasswordPerAddressUser *RateRule `json:"password_per_address_user,omitempty"`
	SecondFactorPerUser    *RateRule `json:"second_factor_per_user,omitempty"`
	ActivationPerAddress   *RateRule `json:"activation_per_address,omitempty"`
	SMSPerAddress          *RateRule `json:"sms_per_address,omitempty"`
	OperatorPerAddress     *RateRule `json:"operator_per_address,omitempty"`
	OIDCAuthorizePerAddr   *RateRule `json:"oidc_authorize_per_address,omitempty"`
	ReportPerAddress       *RateRule `json:"report_per_address,omitempty"`
	DiagnosticsPerAddress  *RateRule `json:"diagnostics_per_address,omitempty"`

	// HashConcurrency is how many Argon2id computations may run at once
	// (default: the number of CPUs). HashQueue is how many more may wait
	// for one (default 16 × HashConcurrency, passhash.DefaultQueuePerSlot;
	// 0 means no queue), at most HashWait (default 2s); beyond, 503.
	HashConcurrency int      `json:"hash_concurrency,omitempty"`
	HashQueue       *int     `json:"hash_queue,omitempty"`
	HashWait        Duration `json:"hash_wait,omitempty"`
}

// ruleFields are the section's rules by ratelimit rule name.
func (s *LimitsSection) ruleFields() map[string]**RateRule {
	return map[string]**RateRule{
		ratelimit.PasswordAddress: &s.PasswordPerAddress, ratelimit.PasswordAccount: &s.PasswordPerAddressUser,
		ratelimit.SecondFactorUser: &s.SecondFactorPerUser, ratelimit.ActivationAddress: &s.ActivationPerAddress,
		ratelimit.SMSAddress: &s.SMSPerAddress, ratelimit.OperatorAddress: &s.OperatorPerAddress,
		ratelimit.OIDCAuthorizeAddress: &s.OIDCAuthorizePerAddr, ratelimit.ReportAddress: &s.ReportPerAddress,
		ratelimit.DiagnosticsAddress: &s.DiagnosticsPerAddress,
	}
}

// Limits is the "limits" section with defaults filled in and checked.
type Limits struct {
	Rules     map[string]ratelimit.Rule
	Proxies   httpapi.Proxies
	HashSlots int
	HashQueue int
	HashWait  time.Duration
}

// LimitsConfig returns the "limits" section resolved against the
// defaults (ratelimit.Defaults; runtime.NumCPU() hash slots).
func (f *File) LimitsConfig() (Limits, error) {
	sec := f.Limits
	out := Limits{Rules: ratelimit.Defaults(), HashSlots: runtime.NumCPU(), HashWait: passhash.DefaultWait}
	var errs field.Errors
	var err error
	if out.Proxies, err = httpapi.ParseProxies(sec.TrustedProxies); err != nil {
		errs.Addf("trusted_proxies", "%v", err)
	}
	for name, field := range sec.ruleFields() {
		r := *field
		if r == nil {
			continue
		}
		rule := ratelimit.Rule{Rate: r.Rate, Per: r.Per.D(), Burst: r.Burst}
		if err := rule.Validate(); err != nil {
			errs.Addf(name, "%v", err)
			continue
		}
		out.Rules[name] = rule
	}
	// Each computation holds 19 MiB (passhash.Default); 256 slots would
	// already be ~5 GiB, more than any node should promise.
	if sec.HashConcurrency < 0 || sec.HashConcurrency > 256 {
		errs.Addf("hash_concurrency", "%d must be between 1 and 256", sec.HashConcurrency)
	} else if sec.HashConcurrency > 0 {
		out.HashSlots = sec.HashConcurrency
	}
	out.HashQueue = passhash.DefaultQueuePerSlot * out.HashSlots
	if sec.HashQueue != nil {
		if *sec.HashQueue < 0 || *sec.HashQueue > 10000 {
			errs.Addf("hash_queue", "%d must be between 0 and 10000", *sec.HashQueue)
		} else {
			out.HashQueue = *sec.HashQueue
		}
	}
	if sec.HashWait != 0 {
		if sec.HashWait.D() > 30*time.Second {
			errs.Addf("hash_wait", "%s must be at most 30s", sec.HashWait.D())
		} else {
			out.HashWait = sec.HashWait.D()
		}
	}
	return out, field.Within("limits", errs.Err())
}
