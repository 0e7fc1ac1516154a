package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/factor/ibkey"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
	"github.com/secure-login-system/sls/ratelimit"
)

// Example returns the file that spells out every default: reading it
// gives the same rules as no file at all. Settings whose default is
// worked out at start (a path under --data, the number of CPUs, the
// listening address) or is "none" are left zero; ExampleJSON writes them
// as null.
func Example() *File {
	var f File
	lc := login.DefaultConfig()
	argon := lc.Argon
	f.Login = LoginRules{Argon2: &argon, LoginTTL: Duration(lc.LoginTTL), DSCPlusChallenge: Duration(dscplus.DefaultChallengeTTL),
		MaxAnswers: lc.MaxAnswers, MaxFailures: lc.MaxFailures, MaxPasswordFailures: lc.MaxPasswordFailures,
		LockoutCooldown: Duration(lc.LockoutCooldown), SessionLifetime: Duration(lc.SessionLifetime), IdleTimeout: Duration(lc.IdleTimeout),
		TradingLifetime: Duration(lc.TradingLifetime), TempPasscodeFull: Duration(lc.TempPasscodeFull),
		TempPasscodePortal: Duration(lc.TempPasscodePortal), StepUpWindow: Duration(lc.StepUpWindow),
		UntrustedBurst: lc.UntrustedBurst, UntrustedHoldOff: Duration(lc.UntrustedHoldOff), KnownClientFailures: lc.KnownClientMaxFailures}

	f.Limits = LimitsSection{TrustedProxies: []string{}, HashWait: Duration(passhash.DefaultWait)}
	rules := ratelimit.Defaults()
	for name, field := range f.Limits.ruleFields() {
		r := rules[name]
		*field = &RateRule{Rate: r.Rate, Per: Duration(r.Per), Burst: r.Burst}
	}

	f.Devices = DevicesSection{}
	for _, k := range sls.ConfigurableKinds {
		l := policy.LimitFor(k, true)
		day, five := USDCap(l.Day), USDCap(l.FiveDay)
		f.Devices[k] = KindSettings{Protection: int(k.DefaultProtection()), DayLimitUSD: &day, FiveDayLimitUSD: &five}
	}

	r := sms.DefaultRules()
	f.SMS = SMS{CodeTTL: Duration(r.CodeTTL), ResendInterval: Duration(r.ResendInterval), MaxAttemptsPerCode: r.MaxAttemptsPerCode,
		MaxPerUserDay: r.MaxPerUserDay, MaxPerNumberDay: r.MaxPerNumberDay, MaxPerRegionHour: r.MaxPerRegionHour,
		SuspendAfterChange: Duration(r.SuspendAfterChange)}
	f.Notify, _ = f.NotifyConfig()
	f.Notify.Channels = map[string]Channel{}
	f.IBKey = ibkey.DefaultConfig()

	pc := protect.Config{}.WithDefaults()
	f.Policy = Policy{Mandated2FA: policy.DefaultMandated2FA, CalendarLocation: policy.DefaultLocation.String(),
		WithdrawalConfirmationTTL: Duration(pc.StepUpAnswerTTL), ConfirmationValidity: Duration(pc.StepUpValidity),
		RateBand: &RateBand{Min: pc.RateBand.Min, Max: pc.RateBand.Max, MaxFactor: pc.RateBand.MaxFactor}}

	f.Lifecycle = Lifecycle{DSCPlusThresholdUSD: protect.FormatAmount("USD", policy.DefaultDSCPlusThreshold),
		DeliveryBusinessDays: policy.DefaultDeliveryBusinessDays, JobEvery: Duration(lifecycle.DefaultJobEvery),
		ReturnAddresses: map[policy.Region]string{}, ReturnCountries: map[string]policy.Region{}}
	for _, d := range policy.DefaultActivationNotices {
		f.Lifecycle.ActivationNotices = append(f.Lifecycle.ActivationNotices, Duration(d))
	}
	f.Lifecycle.ReplacementFeesUSD.Lost, f.Lifecycle.ReplacementFeesUSD.Stolen, f.Lifecycle.ReplacementFeesUSD.Damaged = "0.00", "0.00", "0.00"

	f.SFTP, _ = f.SFTPConfig()
	f.FTP, _ = f.FTPConfig()
	f.Portal, _ = f.PortalConfig()
	oc, _ := f.OperatorsConfig()
	f.Operators = Operators{TokenTTL: Duration(oc.TokenTTL), ApprovalWindow: Duration(oc.ApprovalWindow), DualControl: map[string]bool{}}
	for _, a := range operators.Actions {
		f.Operators.DualControl[a] = operators.DefaultDualControl[a]
	}
	f.Audit, _ = f.AuditConfig()
	f.Audit.Streams = []AuditStream{}
	f.Seal, _ = f.SealConfig()
	o, _ := f.OIDCConfig()
	f.OIDC = OIDC{CodeTTL: Duration(o.CodeTTL), AccessTokenTTL: Duration(o.AccessTokenTTL), IDTokenTTL: Duration(o.IDTokenTTL),
		RefreshTokenTTL: Duration(o.RefreshTokenTTL), KeyRotation: Duration(o.KeyRotation), KeyPublishAhead: Duration(o.KeyPublishAhead)}
	f.Passkey, _ = f.PasskeyConfig()
	tc, _ := f.TakeoverConfig()
	day, five := USDCap(tc.DayLimit), USDCap(tc.FiveDayLimit)
	f.Takeover = Takeover{CoolDown: Duration(tc.CoolDown), DayLimitUSD: &day, FiveDayLimitUSD: &five, ReportLinkTTL: Duration(tc.LinkTTL)}
	dc, _ := f.DiagnosticsConfig()
	f.Diagnostics = Diagnostics{RetentionDays: int(dc.Retention / (24 * time.Hour)), MaxArchiveBytes: dc.MaxArchiveBytes,
		MaxScreenshotBytes: dc.MaxScreenshotBytes, MaxScreenshots: dc.MaxScreenshots, MaxPerUsername: dc.MaxPerUsername,
		MaxEntries: dc.Archive.MaxEntries, MaxUncompressedBytes: dc.Archive.MaxUncompressed, MaxRatio: dc.Archive.MaxRatio}
	f.Crypto = cryptoExample()
	return &f
}

// ExampleJSON writes Example with every key of every section, in the
// order File declares them: a value worked out at start, or none, is
// null (which reads as "the default").
func ExampleJSON() []byte {
	var b bytes.Buffer
	writeExample(&b, reflect.ValueOf(Example()).Elem(), "")
	b.WriteByte('\n')
	return b.Bytes()
}

func writeExample(b *bytes.Buffer, v reflect.Value, indent string) {
	in := indent + "  "
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil(), v.Kind() == reflect.Slice && v.IsNil():
		b.WriteString("null")
	case v.Kind() == reflect.Pointer:
		writeExample(b, v.Elem(), indent)
	case v.Kind() == reflect.Struct:
		t := v.Type()
		b.WriteString("{")
		sep := "\n"
		for i := range t.NumField() {
			name := jsonName(t.Field(i))
			if name == "" {
				continue
			}
			fmt.Fprintf(b, "%s%s%q: ", sep, in, name)
			writeExample(b, v.Field(i), in)
			sep = ",\n"
		}
		b.WriteString("\n" + indent + "}")
	case v.Kind() == reflect.Map:
		if v.Len() == 0 {
			b.WriteString("{}")
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(b, "\n%s%q: ", in, k.String())
			writeExample(b, v.MapIndex(k), in)
		}
		b.WriteString("\n" + indent + "}")
	case v.Kind() == reflect.Slice:
		b.WriteString("[")
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExample(b, v.Index(i), in)
		}
		b.WriteString("]")
	case v.IsZero() && v.Kind() != reflect.Bool:
		b.WriteString("null")
	default:
		out, err := json.Marshal(v.Interface())
		if err != nil {
			panic(err) // every value of the schema marshals
		}
		b.Write(out)
	}
}

// jsonName is a field's JSON name, or "" for a field JSON skips.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}
