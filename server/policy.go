package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
)

// policyFeature holds the account-protection and device-lifecycle
// services.
type policyFeature struct {
	protect   *protect.Service
	lifecycle *lifecycle.Service

	factorsOnce sync.Once
	factors     sls.Factors
}

// policyConfig is the "policy" section (package protect).
type policyConfig struct {
	// Mandated2FA lists the ISO 3166-1 alpha-2 jurisdictions whose
	// residents cannot opt out (default ["HK", "IN"], SPEC §5; [] for
	// none).
	Mandated2FA []string `json:"mandated_2fa,omitempty"`
	// CalendarLocation is the IANA time zone of business days (default
	// America/New_York).
	CalendarLocation string `json:"calendar_location,omitempty"`
	// WithdrawalConfirmationTTL is how long a withdrawal confirmation's
	// challenge may be answered, and ConfirmationValidity how long the
	// confirmation may then be used (both default 5m).
	WithdrawalConfirmationTTL config.Duration `json:"withdrawal_confirmation_ttl,omitempty"`
	ConfirmationValidity      config.Duration `json:"withdrawal_confirmation_validity,omitempty"`
	// RateBand bounds exchange rates an operator may set (policy.RateBand;
	// default 0.000001 to 1,000,000 USD per unit, at most 2× per update).
	RateBand *struct {
		Min       string `json:"min"`
		Max       string `json:"max"`
		MaxFactor int64  `json:"max_factor"`
	} `json:"rate_band,omitempty"`
}

// lifecycleConfig is the "lifecycle" section (package lifecycle). Money
// is written as decimal US dollars ("1000000.00").
type lifecycleConfig struct {
	DSCPlusThresholdUSD  string            `json:"dscplus_threshold_usd,omitempty"`
	DeliveryBusinessDays int               `json:"delivery_business_days,omitempty"`
	ActivationNotices    []config.Duration `json:"activation_notices,omitempty"`
	ReplacementFeesUSD   struct {
		Lost    string `json:"lost,omitempty"`
		Stolen  string `json:"stolen,omitempty"`
		Damaged string `json:"damaged,omitempty"`
	} `json:"replacement_fees_usd"`
	// ReturnAddresses maps a region (us_canada, europe, hong_kong,
	// australia, japan) to its postal address, lines separated by "\n".
	ReturnAddresses map[policy.Region]string `json:"return_addresses,omitempty"`
	ReturnCountries map[string]policy.Region `json:"return_countries,omitempty"`
	ReturnFallback  policy.Region            `json:"return_fallback,omitempty"`
	// JobEvery is the period of the timed jobs (default 1m).
	JobEvery config.Duration `json:"job_every,omitempty"`
}

func usdCents(field, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	m, err := protect.ParseAmount("USD", v)
	if err != nil {
		if v == "0" || v == "0.00" {
			return 0, nil
		}
		return 0, fmt.Errorf("config: lifecycle: %s: %q is not a positive amount of US dollars", field, v)
	}
	return m.Minor, nil
}

// managed resolves s.Manage when called: the feature is configured before
// Open creates the manage service, and uses it only at run time.
type managed struct{ s *Server }

func (m managed) IssueDSCPlus(ctx context.Context, actor, username, serial, pin string, activate bool) (*manage.IssuedDSCPlus, error) {
	return m.s.Manage.IssueDSCPlus(ctx, actor, username, serial, pin, activate)
}

func (m managed) ActivateInTx(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error {
	return m.s.Manage.ActivateInTx(ctx, tx, actor, u, d, now)
}

// configurePolicy wires withdrawal limits, participation, IP restrictions
// (the login gate), sharing, DSC+ ordering, the lifecycle and its jobs.
func (s *Server) configurePolicy(ctx context.Context) error {
	var pc policyConfig
	if err := s.Config.Section("policy", &pc); err != nil {
		return err
	}
	var lc lifecycleConfig
	if err := s.Config.Section("lifecycle", &lc); err != nil {
		return err
	}
	loginCfg, err := s.Config.LoginConfig()
	if err != nil {
		return err
	}
	loc := policy.DefaultLocation
	if pc.CalendarLocation != "" {
		if loc, err = time.LoadLocation(pc.CalendarLocation); err != nil {
			return fmt.Errorf("config: policy: calendar_location: %w", err)
		}
	}
	band := policy.DefaultRateBand
	if rb := pc.RateBand; rb != nil { // a field left out keeps its default
		if rb.Min != "" {
			band.Min = rb.Min
		}
		if rb.Max != "" {
			band.Max = rb.Max
		}
		if rb.MaxFactor != 0 {
			band.MaxFactor = rb.MaxFactor
		}
	}
	if err := band.Validate(); err != nil {
		return fmt.Errorf("config: policy: rate_band: %w", err)
	}
	for _, j := range pc.Mandated2FA {
		if len(j) != 2 {
			return fmt.Errorf("config: policy: mandated_2fa: %q is not an ISO 3166-1 alpha-2 code", j)
		}
	}
	devices, err := s.Config.DevicesConfig()
	if err != nil {
		return err
	}
	// The kind table is process-wide: the last server opened in a
	// process sets it (one per process outside tests).
	if err := sls.ConfigureProtection(devices.Protection); err != nil {
		return fmt.Errorf("config: devices: %w", err)
	}
	f := &s.policy
	f.protect = &protect.Service{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Devices: managed{s}, Log: s.Log,
		Factors: func() sls.Factors {
			f.factorsOnce.Do(func() { f.factors, _ = sls.NewFactors(s.factors...) }) // Open already checked the list
			return f.factors
		},
		Config: protect.Config{Mandated2FA: pc.Mandated2FA, Location: loc, StepUpAnswerTTL: pc.WithdrawalConfirmationTTL.D(),
			StepUpValidity: pc.ConfirmationValidity.D(), MaxAnswers: loginCfg.MaxAnswers, MaxFailures: loginCfg.MaxFailures,
			LockoutCooldown: loginCfg.LockoutCooldown, RateBand: band, DeviceLimits: devices.Limits}}

	lcfg := lifecycle.Config{DeliveryBusinessDays: lc.DeliveryBusinessDays, MaxFailures: loginCfg.MaxFailures,
		LockoutCooldown: loginCfg.LockoutCooldown, JobEvery: lc.JobEvery.D(),
		Returns: policy.ReturnAddresses{Addresses: lc.ReturnAddresses, Countries: lc.ReturnCountries, Fallback: lc.ReturnFallback}}
	if lcfg.ThresholdUSD, err = usdCents("dscplus_threshold_usd", lc.DSCPlusThresholdUSD); err != nil {
		return err
	}
	if lcfg.Fees.Lost, err = usdCents("replacement_fees_usd.lost", lc.ReplacementFeesUSD.Lost); err != nil {
		return err
	}
	if lcfg.Fees.Stolen, err = usdCents("replacement_fees_usd.stolen", lc.ReplacementFeesUSD.Stolen); err != nil {
		return err
	}
	if lcfg.Fees.Damaged, err = usdCents("replacement_fees_usd.damaged", lc.ReplacementFeesUSD.Damaged); err != nil {
		return err
	}
	if lc.ActivationNotices != nil {
		for _, d := range lc.ActivationNotices {
			lcfg.Notices = append(lcfg.Notices, d.D())
		}
	}
	if err := lcfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if len(lcfg.Returns.Addresses) == 0 {
		s.Log.Warn("lifecycle: no return addresses configured (lifecycle.return_addresses); clients cannot record returns")
	}
	f.lifecycle = &lifecycle.Service{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Manage: managed{s}, Protect: f.protect,
		Notifier: s.notifier, Config: lcfg, Log: s.Log}

	// IP restrictions apply to every trading-platform login, whatever the
	// gates before decided about the second factor.
	s.gate = protect.Gate{Next: s.gate}
	// … and to every use of a trading-platform session afterwards.
	s.sessionGate = protect.SessionGate{}
	s.API.Extra = append(s.API.Extra, f.protect.Routes, f.lifecycle.Routes)
	for _, j := range f.lifecycle.Jobs() {
		s.Scheduler.Add(j)
	}
	return nil
}
