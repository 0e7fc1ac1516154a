package protect

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/verify"
)

// Audit events of this package. Strings are stored; never rename one.
const (
	EventWithdrawalRecorded = "withdrawal.recorded"
	EventWithdrawalRefused  = "withdrawal.refused"
	EventWithdrawalReversed = "withdrawal.reversed"
	EventStepUpStarted      = "withdrawal.confirmation_started"
	EventStepUpConfirmed    = "withdrawal.confirmed"
	EventACHRecorded        = "ach_funding.recorded"
	EventACHRefused         = "ach_funding.refused"
	EventOptedOut           = "participation.opted_out"
	EventOptedIn            = "participation.opted_in"
	EventIPRestrictions     = "ip_restrictions.changed"
	EventPennyStock         = "penny_stock.changed"
	EventRateChanged        = "exchange_rate.changed"
	EventHolidayChanged     = "holiday.changed"
	EventDeviceShared       = "device.shared"
)

// Conditions this package adds to those of package policy (Detail
// "condition").
const (
	CondIPRestrictionsRequired = "ip_restrictions_required" // penny-stock permission of an opted-out user needs IP restrictions
	CondRateMissing            = "rate_missing"             // no exchange rate for the currency
)

// Config holds the rules a deployment tunes (config section "policy").
type Config struct {
	// Mandated2FA lists the jurisdictions whose residents cannot opt out;
	// nil means policy.DefaultMandated2FA (Hong Kong, India).
	Mandated2FA []string
	// Location is where business days begin and end; nil means
	// policy.DefaultLocation (New York).
	Location *time.Location
	// StepUpAnswerTTL bounds how long a withdrawal confirmation's
	// challenge may be answered (factors may shorten it); default 5
	// minutes.
	StepUpAnswerTTL time.Duration
	// StepUpValidity is how long a confirmed withdrawal confirmation may
	// be used; default 5 minutes: it confirms one withdrawal about to be
	// made, not a standing permission.
	StepUpValidity time.Duration
	// Lockout rules shared with the login (login.Config): answers per
	// confirmation, failures that lock the user, and for how long.
	MaxAnswers      int
	MaxFailures     int
	LockoutCooldown time.Duration
	// RateBand bounds the exchange rates operators set; zero: the
	// default (policy.DefaultRateBand).
	RateBand policy.RateBand
	// DeviceLimits overrides the withdrawal limits of the configurable
	// kinds (passkey, TOTP); nil: their defaults.
	DeviceLimits policy.LimitTable
	// CoolDown is the tier withdrawals fall to while a security change's
	// cool-down holds (package takeover); nil: no cool-down applies.
	CoolDown *policy.Limit
}

// WithDefaults fills zero fields: 5-minute withdrawal confirmations, the
// default rate band and the login rules' lockout.
func (c Config) WithDefaults() Config {
	d := login.DefaultConfig()
	if c.StepUpAnswerTTL <= 0 {
		c.StepUpAnswerTTL = 5 * time.Minute
	}
	if c.StepUpValidity <= 0 {
		c.StepUpValidity = 5 * time.Minute
	}
	if c.RateBand == (policy.RateBand{}) {
		c.RateBand = policy.DefaultRateBand
	}
	if c.MaxAnswers <= 0 {
		c.MaxAnswers = d.MaxAnswers
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = d.MaxFailures
	}
	if c.LockoutCooldown <= 0 {
		c.LockoutCooldown = d.LockoutCooldown
	}
	if c.Location == nil {
		c.Location = policy.DefaultLocation
	}
	return c
}

// Activator activates a device with the device hooks; *manage.Service is
// one.
type Activator interface {
	ActivateInTx(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error
}

// Service applies the account-protection rules.
type Service struct {
	Store  sls.Store
	Sealer *seal.Sealer
	Clock  sls.Clock
	Config Config
	// Factors returns the server's factors, for withdrawal confirmations;
	// nil makes confirmations unavailable.
	Factors func() sls.Factors
	// Devices activates shared devices (package manage).
	Devices Activator
	// VerifyMetrics times the factor checks of confirmations (nil: not
	// timed).
	VerifyMetrics *verify.Metrics
	// Notifier tells the client of a change of banking instructions (nil:
	// nobody is told).
	Notifier sls.Notifier
	Log      *slog.Logger
}

func (s *Service) cfg() Config { return s.Config.WithDefaults() }

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now()
}

// Calendar returns the business calendar: the configured location and the
// holidays operators stored.
func (s *Service) Calendar(ctx context.Context, tx sls.Tx) (policy.Calendar, error) {
	hs, err := tx.Holidays(ctx)
	if err != nil {
		return policy.Calendar{}, err
	}
	days := make([]string, len(hs))
	for i, h := range hs {
		days[i] = h.Date
	}
	cal, err := policy.NewCalendar(s.cfg().Location, days)
	if err != nil {
		return policy.Calendar{}, fmt.Errorf("protect: stored holidays: %w", err)
	}
	return cal, nil
}

// Rates returns the exchange rates operators stored.
func (s *Service) Rates(ctx context.Context, tx sls.Tx) (policy.Rates, error) {
	list, err := tx.ExchangeRates(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(list))
	for _, r := range list {
		m[r.Currency] = r.Rate
	}
	rs, err := policy.ParseRates(m)
	if err != nil {
		return nil, fmt.Errorf("protect: stored exchange rates: %w", err)
	}
	return rs, nil
}

// ToUSD converts m to US cents with the stored rates; up rounds towards
// +∞ (amounts counted against a limit), otherwise towards −∞ (amounts that
// must reach a threshold). A currency without a rate is a clear refusal.
func (s *Service) ToUSD(ctx context.Context, tx sls.Tx, m policy.Money, up bool) (int64, policy.Rate, error) {
	rs, err := s.Rates(ctx, tx)
	if err != nil {
		return 0, policy.Rate{}, err
	}
	rate := rs[m.Currency]
	if m.Currency != "USD" && rate.IsZero() {
		return 0, rate, sls.Errorf(sls.CodeInvalidArgument, "No exchange rate for %s is configured; amounts in %s cannot be converted.", m.Currency, m.Currency).
			WithDetail(policy.DetailCondition, CondRateMissing).WithDetail("currency", m.Currency)
	}
	var usd int64
	if up {
		usd, err = rs.ToUSD(m)
	} else {
		usd, err = rs.ToUSDFloor(m)
	}
	if err != nil {
		return 0, rate, sls.Errorf(sls.CodeInvalidArgument, "The amount cannot be converted to USD.").Wrap(err)
	}
	return usd, rate, nil
}

// inSLS is whether the user participates in the Secure Login System.
func inSLS(u *sls.User) bool { return !u.OptedOut }
