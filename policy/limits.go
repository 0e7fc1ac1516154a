package policy

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/secure-login-system/sls"
)

// Unlimited is the value of a cap, or of what remains under it, when the
// device sets no limit. Being the largest int64 it compares correctly with
// any amount; never add to it.
const Unlimited int64 = math.MaxInt64

// Limit is the withdrawal limit that applies to one withdrawal, decided by
// the device that authenticated it (SPEC §4).
type Limit struct {
	// Kind is the device that authenticated the withdrawal; "" when the
	// user does not participate in SLS.
	Kind sls.DeviceKind
	// Basis says where the figures come from, for logs and messages:
	// "not_in_sls", "device", or "lowest" (a kind the table does not name;
	// see LimitFor).
	Basis string
	// Day caps the rolling 24 hours, FiveDay the rolling five business days,
	// both in US cents, or Unlimited.
	Day, FiveDay int64
}

// Limit bases.
const (
	BasisNotInSLS = "not_in_sls"
	BasisDevice   = "device"
	BasisLowest   = "lowest"
)

// Unlimited reports whether neither window caps withdrawals.
func (l Limit) Unlimited() bool { return l.Day == Unlimited && l.FiveDay == Unlimited }

// deviceLimits is the table of SPEC §4, "Withdrawal limits by device":
//
//	device                          per day       per 5 business days
//	none (not in SLS)               USD 50,000    USD 100,000
//	SMS                             USD 200,000   USD 600,000
//	IB Key                          USD 1,000,000 USD 1,000,000
//	Security Code Card              USD 200,000   USD 600,000
//	Digital Security Card (legacy)  USD 1,000,000 USD 1,500,000
//	Digital Security Card+          unlimited     unlimited
//	Platinum / Gold (legacy)        unlimited     unlimited
//
// The kinds SPEC §4 does not know are configurable (LimitTable); their
// defaults are those of the device they rank with:
//
//	Passkey                         USD 1,000,000 USD 1,000,000 (IB Key's)
//	Authenticator app (TOTP)        USD 200,000   USD 600,000   (the code card's)
var deviceLimits = map[sls.DeviceKind][2]int64{
	sls.KindSMS:      {200_000 * Dollar, 600_000 * Dollar},
	sls.KindIBKey:    {1_000_000 * Dollar, 1_000_000 * Dollar},
	sls.KindCodeCard: {200_000 * Dollar, 600_000 * Dollar},
	sls.KindDSC:      {1_000_000 * Dollar, 1_500_000 * Dollar},
	sls.KindDSCPlus:  {Unlimited, Unlimited},
	sls.KindPlatinum: {Unlimited, Unlimited},
	sls.KindGold:     {Unlimited, Unlimited},
	sls.KindPasskey:  {1_000_000 * Dollar, 1_000_000 * Dollar},
	sls.KindTOTP:     {200_000 * Dollar, 600_000 * Dollar},
}

// LimitTable overrides the limits of configurable kinds
// (sls.ConfigurableKinds): kind → {per day, per five business days} in
// US cents, or Unlimited. A nil table is the defaults.
type LimitTable map[sls.DeviceKind][2]int64

// Validate refuses a kind that is not configurable and a negative or zero cap.
func (t LimitTable) Validate() error {
	for k, caps := range t {
		if !slices.Contains(sls.ConfigurableKinds, k) {
			return fmt.Errorf("policy: the limits of %q are not configurable", k)
		}
		if caps[0] <= 0 || caps[1] <= 0 {
			return fmt.Errorf("policy: the limits of %q must be positive", k)
		}
		if caps[0] > caps[1] {
			return fmt.Errorf("policy: the daily limit of %q is above its five-day limit", k)
		}
	}
	return nil
}

// For is LimitFor with t's overrides.
func (t LimitTable) For(kind sls.DeviceKind, inSLS bool) Limit {
	l := LimitFor(kind, inSLS)
	if caps, ok := t[kind]; ok && inSLS {
		l.Basis, l.Day, l.FiveDay = BasisDevice, caps[0], caps[1]
	}
	return l
}

// NotInSLSLimit is the SPEC §4 row "none (not in SLS)": USD 50,000 a day and
// USD 100,000 per five business days.
var NotInSLSLimit = Limit{Basis: BasisNotInSLS, Day: 50_000 * Dollar, FiveDay: 100_000 * Dollar}

// LimitFor returns the withdrawal limit for a withdrawal authenticated by a
// device of the given kind. When the user is not in SLS the kind is ignored
// and the "none" row applies.
//
// The SPEC §4 table does not name the Online Security Code Card or the
// temporary passcode; they get the lowest ("none") limits. Both are
// stopgaps handed out on the strength of a phone call to Client Services
// (SPEC §6: lost/stolen device → temporary access → online card), which is
// exactly the path a social engineer takes, and both rank below SMS and the
// Security Code Card in protection; a session they authenticate must not
// move more money than an account with no second factor at all. An unknown
// or empty kind also gets the lowest limits: fail closed.
func LimitFor(kind sls.DeviceKind, inSLS bool) Limit {
	if !inSLS {
		return NotInSLSLimit
	}
	if caps, ok := deviceLimits[kind]; ok {
		return Limit{Kind: kind, Basis: BasisDevice, Day: caps[0], FiveDay: caps[1]}
	}
	return Limit{Kind: kind, Basis: BasisLowest, Day: NotInSLSLimit.Day, FiveDay: NotInSLSLimit.FiveDay}
}

// Withdrawal is a past withdrawal that counts against the limits: when it
// was made and its amount in US cents (converted with Rates.ToUSD).
type Withdrawal struct {
	At  time.Time
	USD int64
}

// Reason says why a withdrawal was allowed or refused. Values are stable.
type Reason string

// Reasons.
const (
	ReasonOK            Reason = "ok"
	ReasonDayLimit      Reason = "day_limit"      // over what is left in the rolling 24 hours
	ReasonFiveDayLimit  Reason = "five_day_limit" // over what is left in the rolling 5 business days
	ReasonBothLimits    Reason = "both_limits"    // over what is left in both windows
	ReasonAboveCap      Reason = "above_cap"      // more than the device ever allows in one window: use a stronger device or split over time
	ReasonInvalidAmount Reason = "invalid_amount" // zero or negative amount
)

// Decision is the answer to "may this user withdraw USD X now".
type Decision struct {
	Allowed bool
	Reason  Reason
	// Limit is the limit that applied (decided by the device).
	Limit Limit
	// UsedDay and UsedFiveDay are what the history already takes from each
	// window, in US cents.
	UsedDay, UsedFiveDay int64
	// RemainingDay and RemainingFiveDay are what is left in each window
	// before this withdrawal, in US cents, or Unlimited.
	RemainingDay, RemainingFiveDay int64
	// FiveDayStart is the first instant of the five-business-day window.
	FiveDayStart time.Time
	// NextRoomAt is set when the withdrawal is refused: the first instant
	// at which enough room frees up for the requested amount if no other
	// withdrawal happens; when the amount can never fit (ReasonAboveCap),
	// the first instant at which room grows at all. Zero when allowed, or
	// when room never grows.
	NextRoomAt time.Time
}

// Evaluate decides whether a withdrawal of amountUSD (US cents) may be made
// at now under limit, given the withdrawals already made.
//
// Windows (SPEC §4: "rolling: one day, and five business days"):
//
//   - one day is the last 24 hours: a withdrawal at t counts while
//     now − 24h < t, so it stops counting at exactly t + 24h;
//   - five business days: every instant counts toward a business day of
//     cal, its own date when that is a business day, otherwise the next
//     business day (a Saturday or holiday withdrawal counts toward the
//     following business day). The window at now holds the withdrawals
//     whose business day is BusinessDayOf(now) or one of the 4 business days
//     before it; a withdrawal stops counting at midnight (cal's location)
//     after the fourth business day following its own.
//
// The requested amount is allowed when it is at most what is left in both
// windows; an amount exactly equal to what is left is allowed.
//
// History entries dated after now still count (clock skew between nodes
// must not create room); negative amounts count as zero, so a reversal must
// be removed from the history rather than booked against it.
func Evaluate(limit Limit, history []Withdrawal, amountUSD int64, now time.Time, cal Calendar) Decision {
	d := Decision{Limit: limit, FiveDayStart: cal.WindowStart(now, 5)}
	dayStart := now.Add(-24 * time.Hour)

	// Each counted withdrawal frees its room in a window when it expires
	// from that window.
	type release struct {
		at        time.Time
		day, five int64
	}
	var releases []release
	for _, w := range history {
		amt := max(w.USD, 0)
		if amt == 0 {
			continue
		}
		if w.At.After(dayStart) {
			d.UsedDay = addSat(d.UsedDay, amt)
			releases = append(releases, release{at: w.At.Add(24 * time.Hour), day: amt})
		}
		if !w.At.Before(d.FiveDayStart) {
			d.UsedFiveDay = addSat(d.UsedFiveDay, amt)
			releases = append(releases, release{at: cal.windowEnd(w.At, 5), five: amt})
		}
	}
	d.RemainingDay = remaining(limit.Day, d.UsedDay)
	d.RemainingFiveDay = remaining(limit.FiveDay, d.UsedFiveDay)

	if amountUSD <= 0 {
		d.Reason = ReasonInvalidAmount
		return d
	}
	overDay, overFive := amountUSD > d.RemainingDay, amountUSD > d.RemainingFiveDay
	switch {
	case !overDay && !overFive:
		d.Allowed, d.Reason = true, ReasonOK
		return d
	case amountUSD > limit.Day || amountUSD > limit.FiveDay:
		d.Reason = ReasonAboveCap
	case overDay && overFive:
		d.Reason = ReasonBothLimits
	case overDay:
		d.Reason = ReasonDayLimit
	default:
		d.Reason = ReasonFiveDayLimit
	}

	// Sweep the releases in time order; room is min(day, five-day) left.
	slices.SortFunc(releases, func(a, b release) int { return a.at.Compare(b.at) })
	usedDay, usedFive := d.UsedDay, d.UsedFiveDay
	room := min(d.RemainingDay, d.RemainingFiveDay)
	for i := 0; i < len(releases); {
		at := releases[i].at
		for ; i < len(releases) && releases[i].at.Equal(at); i++ {
			usedDay -= releases[i].day
			usedFive -= releases[i].five
		}
		r := min(remaining(limit.Day, usedDay), remaining(limit.FiveDay, usedFive))
		if d.Reason == ReasonAboveCap && r > room {
			d.NextRoomAt = at
			break
		}
		if amountUSD <= r {
			d.NextRoomAt = at
			break
		}
	}
	return d
}

// remaining is what a cap leaves after used, never negative.
func remaining(cap, used int64) int64 {
	if cap == Unlimited {
		return Unlimited
	}
	if used >= cap {
		return 0
	}
	return cap - used
}

// addSat adds non-negative amounts without wrapping past the largest int64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Err returns nil when the withdrawal is allowed, otherwise an *sls.Error
// for the client: limit_exceeded (invalid_argument for a non-positive
// amount) with Detail "reason", "remaining_day", "remaining_five_day"
// (omitted when unlimited) and "next_room_at" (RFC 3339, when known).
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	if d.Reason == ReasonInvalidAmount {
		return sls.Errorf(sls.CodeInvalidArgument, "The withdrawal amount must be positive.").
			WithDetail("reason", string(d.Reason))
	}
	var msg string
	switch d.Reason {
	case ReasonAboveCap:
		msg = "This amount is above the withdrawal limit of the security device used to log in."
	case ReasonDayLimit:
		msg = "This amount is above what is left of the daily withdrawal limit (" + FormatUSD(d.RemainingDay) + ")."
	case ReasonFiveDayLimit:
		msg = "This amount is above what is left of the five-business-day withdrawal limit (" + FormatUSD(d.RemainingFiveDay) + ")."
	default:
		msg = "This amount is above what is left of the withdrawal limits (" + FormatUSD(min(d.RemainingDay, d.RemainingFiveDay)) + ")."
	}
	e := sls.Errorf(sls.CodeLimitExceeded, "%s", msg).WithDetail("reason", string(d.Reason))
	if d.RemainingDay != Unlimited {
		e = e.WithDetail("remaining_day", d.RemainingDay)
	}
	if d.RemainingFiveDay != Unlimited {
		e = e.WithDetail("remaining_five_day", d.RemainingFiveDay)
	}
	if !d.NextRoomAt.IsZero() {
		e = e.WithDetail("next_room_at", d.NextRoomAt.UTC().Format(time.RFC3339))
	}
	return e
}
