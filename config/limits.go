package config

import (
	"fmt"
	"runtime"
	"time"

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

	// HashConcurrency is how many Argon2id computations may run at once
	// (default: the number of CPUs). HashQueue is how many more may wait
	// for one (default 16 × HashConcurrency, passhash.DefaultQueuePerSlot;
	// 0 means no queue), at most HashWait (default 2s); beyond, 503.
	HashConcurrency int      `json:"hash_concurrency,omitempty"`
	HashQueue       *int     `json:"hash_queue,omitempty"`
	HashWait        Duration `json:"hash_wait,omitempty"`
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
	var sec LimitsSection
	if err := f.Section("limits", &sec); err != nil {
		return Limits{}, err
	}
	out := Limits{Rules: ratelimit.Defaults(), HashSlots: runtime.NumCPU(), HashWait: passhash.DefaultWait}
	var err error
	if out.Proxies, err = httpapi.ParseProxies(sec.TrustedProxies); err != nil {
		return Limits{}, fmt.Errorf("config: limits: %w", err)
	}
	for name, r := range map[string]*RateRule{
		ratelimit.PasswordAddress: sec.PasswordPerAddress, ratelimit.PasswordAccount: sec.PasswordPerAddressUser,
		ratelimit.SecondFactorUser: sec.SecondFactorPerUser, ratelimit.ActivationAddress: sec.ActivationPerAddress,
		ratelimit.SMSAddress: sec.SMSPerAddress, ratelimit.OperatorAddress: sec.OperatorPerAddress,
		ratelimit.OIDCAuthorizeAddress: sec.OIDCAuthorizePerAddr,
	} {
		if r == nil {
			continue
		}
		rule := ratelimit.Rule{Rate: r.Rate, Per: r.Per.D(), Burst: r.Burst}
		if err := rule.Validate(); err != nil {
			return Limits{}, fmt.Errorf("config: limits: %s: %w", name, err)
		}
		out.Rules[name] = rule
	}
	// Each computation holds 19 MiB (passhash.Default); 256 slots would
	// already be ~5 GiB, more than any node should promise.
	if sec.HashConcurrency < 0 || sec.HashConcurrency > 256 {
		return Limits{}, fmt.Errorf("config: limits: hash_concurrency %d must be between 1 and 256", sec.HashConcurrency)
	}
	if sec.HashConcurrency > 0 {
		out.HashSlots = sec.HashConcurrency
	}
	out.HashQueue = passhash.DefaultQueuePerSlot * out.HashSlots
	if sec.HashQueue != nil {
		if *sec.HashQueue < 0 || *sec.HashQueue > 10000 {
			return Limits{}, fmt.Errorf("config: limits: hash_queue %d must be between 0 and 10000", *sec.HashQueue)
		}
		out.HashQueue = *sec.HashQueue
	}
	if sec.HashWait != 0 {
		if sec.HashWait.D() > 30*time.Second {
			return Limits{}, fmt.Errorf("config: limits: hash_wait %s must be at most 30s", sec.HashWait.D())
		}
		out.HashWait = sec.HashWait.D()
	}
	return out, nil
}
