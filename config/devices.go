package config

import (
	"encoding/json"
	"fmt"
	"math"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/policy"
)

// DevicesSection is the "devices" section: the protection level and
// withdrawal limits of the kinds a deployment ranks itself
// (sls.ConfigurableKinds: passkey, totp), keyed by kind, e.g.
//
//	{"devices": {"passkey": {"protection": 75, "day_limit_usd": 500000,
//	                         "five_day_limit_usd": "unlimited"}}}
type DevicesSection map[sls.DeviceKind]KindSettings

// KindSettings is one configurable kind. A field left out keeps the
// kind's default (device.go, policy/limits.go).
type KindSettings struct {
	Protection      int     `json:"protection,omitempty"`
	DayLimitUSD     *USDCap `json:"day_limit_usd,omitempty"`
	FiveDayLimitUSD *USDCap `json:"five_day_limit_usd,omitempty"`
}

// USDCap is a limit in whole US dollars, or the string "unlimited".
type USDCap int64

// UnmarshalJSON accepts a positive whole number of dollars or "unlimited".
func (c *USDCap) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "unlimited" {
			return fmt.Errorf(`a limit is a whole number of US dollars or "unlimited", not %q`, s)
		}
		*c = USDCap(policy.Unlimited)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil || n <= 0 || n > math.MaxInt64/policy.Dollar-1 {
		return fmt.Errorf(`a limit is a positive whole number of US dollars or "unlimited", not %s`, b)
	}
	*c = USDCap(n * policy.Dollar)
	return nil
}

// MarshalJSON writes whole dollars or "unlimited".
func (c USDCap) MarshalJSON() ([]byte, error) {
	if int64(c) == policy.Unlimited {
		return json.Marshal("unlimited")
	}
	return json.Marshal(int64(c) / policy.Dollar)
}

// Devices is the "devices" section resolved: protection levels for
// sls.ConfigureProtection and the limit overrides for the withdrawal
// checks.
type Devices struct {
	Protection map[sls.DeviceKind]sls.Protection
	Limits     policy.LimitTable
}

// DevicesConfig reads and checks the "devices" section.
func (f *File) DevicesConfig() (Devices, error) {
	sec := f.Devices
	out := Devices{Protection: map[sls.DeviceKind]sls.Protection{}, Limits: policy.LimitTable{}}
	for kind, ks := range sec {
		if ks.Protection != 0 {
			out.Protection[kind] = sls.Protection(ks.Protection)
		}
		if ks.DayLimitUSD == nil && ks.FiveDayLimitUSD == nil {
			continue
		}
		def := policy.LimitFor(kind, true)
		caps := [2]int64{def.Day, def.FiveDay}
		if ks.DayLimitUSD != nil {
			caps[0] = int64(*ks.DayLimitUSD)
		}
		if ks.FiveDayLimitUSD != nil {
			caps[1] = int64(*ks.FiveDayLimitUSD)
		}
		out.Limits[kind] = caps
	}
	var errs field.Errors
	errs.Add("", sls.CheckProtection(out.Protection))
	errs.Add("", out.Limits.Validate())
	return out, field.Within("devices", errs.Err())
}
