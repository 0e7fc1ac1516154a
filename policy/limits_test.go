package policy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/secure-login-system/sls"
)

func TestLimitFor(t *testing.T) {
	const K = 1000 * Dollar
	for _, tc := range []struct {
		kind       sls.DeviceKind
		inSLS      bool
		day, five  int64
		basis      string
		resultKind sls.DeviceKind
	}{
		// SPEC §4 table, row by row.
		{"", false, 50 * K, 100 * K, BasisNotInSLS, ""},
		{sls.KindSMS, true, 200 * K, 600 * K, BasisDevice, sls.KindSMS},
		{sls.KindIBKey, true, 1000 * K, 1000 * K, BasisDevice, sls.KindIBKey},
		{sls.KindCodeCard, true, 200 * K, 600 * K, BasisDevice, sls.KindCodeCard},
		{sls.KindDSC, true, 1000 * K, 1500 * K, BasisDevice, sls.KindDSC},
		{sls.KindDSCPlus, true, Unlimited, Unlimited, BasisDevice, sls.KindDSCPlus},
		{sls.KindPlatinum, true, Unlimited, Unlimited, BasisDevice, sls.KindPlatinum},
		{sls.KindGold, true, Unlimited, Unlimited, BasisDevice, sls.KindGold},
		// Not in the table: the lowest limits.
		{sls.KindOnlineCard, true, 50 * K, 100 * K, BasisLowest, sls.KindOnlineCard},
		{sls.KindTempPasscode, true, 50 * K, 100 * K, BasisLowest, sls.KindTempPasscode},
		{"yubikey", true, 50 * K, 100 * K, BasisLowest, "yubikey"},
		{"", true, 50 * K, 100 * K, BasisLowest, ""},
		// Not in SLS: the device does not matter.
		{sls.KindDSCPlus, false, 50 * K, 100 * K, BasisNotInSLS, ""},
		{sls.KindIBKey, false, 50 * K, 100 * K, BasisNotInSLS, ""},
	} {
		l := LimitFor(tc.kind, tc.inSLS)
		if l.Day != tc.day || l.FiveDay != tc.five || l.Basis != tc.basis || l.Kind != tc.resultKind {
			t.Errorf("LimitFor(%q, %v) = %+v, want day %d five %d basis %s", tc.kind, tc.inSLS, l, tc.day, tc.five, tc.basis)
		}
		if l.Unlimited() != (tc.day == Unlimited) {
			t.Errorf("LimitFor(%q).Unlimited() = %v", tc.kind, l.Unlimited())
		}
	}
	// Every known kind has an answer no higher than its table row.
	for _, k := range sls.AllKinds {
		if l := LimitFor(k, true); l.Day <= 0 || l.FiveDay <= 0 {
			t.Errorf("%s: %+v", k, l)
		}
	}
}

func TestEvaluate(t *testing.T) {
	cal := cal2026(t)
	const K = 1000 * Dollar
	sms := LimitFor(sls.KindSMS, true)
	ibkey := LimitFor(sls.KindIBKey, true)
	none := LimitFor(sls.KindSMS, false)
	now := at(2026, 12, 30, 12, 0) // Wednesday; window 23 24 (25 holiday) 28 29 30
	type W = Withdrawal
	for _, tc := range []struct {
		name      string
		limit     Limit
		history   []W
		amount    int64
		now       time.Time
		allowed   bool
		reason    Reason
		remDay    int64
		remFive   int64
		nextRoom  time.Time
		usedDay   int64
		usedFive  int64
		skipUsage bool
	}{
		{name: "empty history, exactly the day cap", limit: sms, amount: 200 * K, now: now,
			allowed: true, reason: ReasonOK, remDay: 200 * K, remFive: 600 * K},
		{name: "one cent over the cap", limit: sms, amount: 200*K + 1, now: now,
			reason: ReasonAboveCap, remDay: 200 * K, remFive: 600 * K},
		{name: "not in SLS: exactly 50,000", limit: none, amount: 50 * K, now: now,
			allowed: true, reason: ReasonOK, remDay: 50 * K, remFive: 100 * K},
		{name: "not in SLS: 50,000.01", limit: none, amount: 50*K + 1, now: now,
			reason: ReasonAboveCap, remDay: 50 * K, remFive: 100 * K},
		{name: "exactly what is left today", limit: sms,
			history: []W{{now.Add(-time.Hour), 150 * K}}, amount: 50 * K, now: now,
			allowed: true, reason: ReasonOK, remDay: 50 * K, remFive: 450 * K, usedDay: 150 * K, usedFive: 150 * K},
		{name: "one cent more than left today", limit: sms,
			history: []W{{now.Add(-time.Hour), 150 * K}}, amount: 50*K + 1, now: now,
			reason: ReasonDayLimit, remDay: 50 * K, remFive: 450 * K, nextRoom: now.Add(23 * time.Hour),
			usedDay: 150 * K, usedFive: 150 * K},
		{name: "24 hours ago exactly no longer counts for the day", limit: sms,
			history: []W{{now.Add(-24 * time.Hour), 200 * K}}, amount: 200 * K, now: now,
			allowed: true, reason: ReasonOK, remDay: 200 * K, remFive: 400 * K, usedDay: 0, usedFive: 200 * K},
		{name: "24 hours ago less 1ns still counts", limit: sms,
			history: []W{{now.Add(-24*time.Hour + 1), 200 * K}}, amount: 1, now: now,
			reason: ReasonDayLimit, remDay: 0, remFive: 400 * K, nextRoom: now.Add(1),
			usedDay: 200 * K, usedFive: 200 * K},
		{name: "room frees when the right entry leaves the day", limit: sms,
			history: []W{{now.Add(-20 * time.Hour), 150 * K}, {now.Add(-2 * time.Hour), 50 * K}},
			amount:  100 * K, now: now,
			reason: ReasonDayLimit, remDay: 0, remFive: 400 * K, nextRoom: now.Add(4 * time.Hour),
			usedDay: 200 * K, usedFive: 200 * K},
		{name: "needs both day entries to leave", limit: sms,
			history: []W{{now.Add(-20 * time.Hour), 100 * K}, {now.Add(-2 * time.Hour), 100 * K}},
			amount:  150 * K, now: now,
			reason: ReasonDayLimit, remDay: 0, remFive: 400 * K, nextRoom: now.Add(22 * time.Hour),
			usedDay: 200 * K, usedFive: 200 * K},
		// Five business days, Friday holiday 25 Dec: the window at Wed 30
		// opens Wed 23 00:00; Tue 22 23:59 is out, the holiday counts.
		{name: "five-day window with a Friday holiday", limit: sms,
			history: []W{
				{at(2026, 12, 22, 23, 59), 200 * K}, // out of the window
				{at(2026, 12, 23, 0, 0), 250 * K},   // first instant of the window
				{at(2026, 12, 25, 10, 0), 250 * K},  // holiday: counts toward Mon 28
			},
			amount: 150 * K, now: now,
			// Wed 23 counts toward 23, 24, 28, 29, 30: gone at Thu 31 00:00.
			reason: ReasonFiveDayLimit, remDay: 200 * K, remFive: 100 * K,
			nextRoom: at(2026, 12, 31, 0, 0), usedFive: 500 * K},
		{name: "five-day window full, frees at midnight after the 4th following business day", limit: sms,
			history: []W{
				{at(2026, 12, 23, 9, 0), 200 * K},
				{at(2026, 12, 24, 9, 0), 200 * K},
				{at(2026, 12, 28, 9, 0), 200 * K},
			},
			amount: 200 * K, now: now,
			reason: ReasonFiveDayLimit, remDay: 200 * K, remFive: 0,
			// 23 counts toward 23, 24, 28, 29, 30: gone at Thu 31 00:00.
			nextRoom: at(2026, 12, 31, 0, 0), usedFive: 600 * K},
		// Monday holiday 19 Jan: Fri 16 counts until Fri 23 ends, and the
		// weekend after it counts toward Tuesday.
		{name: "five-day window with a Monday holiday", limit: sms,
			history: []W{
				{at(2026, 1, 15, 23, 59), 300 * K}, // Thursday: out at Fri 23
				{at(2026, 1, 16, 9, 0), 200 * K},   // Friday
				{at(2026, 1, 17, 9, 0), 200 * K},   // Saturday → Tue 20
				{at(2026, 1, 20, 9, 0), 150 * K},   // Tuesday
			},
			amount: 100 * K, now: at(2026, 1, 23, 10, 0),
			reason: ReasonFiveDayLimit, remDay: 200 * K, remFive: 50 * K,
			nextRoom: at(2026, 1, 24, 0, 0), usedFive: 550 * K},
		{name: "IB Key: five-day binding, day free", limit: ibkey,
			history: []W{{now.Add(-48 * time.Hour), 600 * K}, {now.Add(-time.Hour), 300 * K}},
			amount:  200 * K, now: now,
			reason: ReasonFiveDayLimit, remDay: 700 * K, remFive: 100 * K,
			// The 600k of Mon 28 counts toward 28, 29, 30, 31 and (1 Jan
			// being a holiday) Mon 4: gone at Tue 5 Jan 00:00.
			nextRoom: at(2027, 1, 5, 0, 0), usedDay: 300 * K, usedFive: 900 * K},
		{name: "both windows short", limit: sms,
			history: []W{{now.Add(-72 * time.Hour), 400 * K}, {now.Add(-time.Hour), 190 * K}},
			amount:  20 * K, now: now,
			// The day frees at now+23h but the five-day window stays short
			// until the 400k of Sun 27 (→ Mon 28: 28 29 30 31 4) leaves.
			reason: ReasonBothLimits, remDay: 10 * K, remFive: 10 * K,
			nextRoom: at(2027, 1, 5, 0, 0), usedDay: 190 * K, usedFive: 590 * K},
		{name: "above cap: earliest growth of room", limit: sms,
			history: []W{{now.Add(-10 * time.Hour), 150 * K}},
			amount:  250 * K, now: now,
			reason: ReasonAboveCap, remDay: 50 * K, remFive: 450 * K,
			nextRoom: now.Add(14 * time.Hour), usedDay: 150 * K, usedFive: 150 * K},
		{name: "above cap, nothing to free", limit: sms, amount: 601 * K, now: now,
			reason: ReasonAboveCap, remDay: 200 * K, remFive: 600 * K},
		{name: "unlimited device", limit: LimitFor(sls.KindDSCPlus, true),
			history: []W{{now.Add(-time.Hour), 9_000_000 * K}}, amount: 5_000_000 * K, now: now,
			allowed: true, reason: ReasonOK, remDay: Unlimited, remFive: Unlimited,
			usedDay: 9_000_000 * K, usedFive: 9_000_000 * K},
		{name: "zero amount", limit: sms, amount: 0, now: now,
			reason: ReasonInvalidAmount, remDay: 200 * K, remFive: 600 * K},
		{name: "negative amount", limit: sms, amount: -5, now: now,
			reason: ReasonInvalidAmount, remDay: 200 * K, remFive: 600 * K},
		{name: "negative history does not make room", limit: sms,
			history: []W{{now.Add(-time.Hour), 200 * K}, {now.Add(-time.Minute), -200 * K}},
			amount:  1, now: now,
			reason: ReasonDayLimit, remDay: 0, remFive: 400 * K, nextRoom: now.Add(23 * time.Hour),
			usedDay: 200 * K, usedFive: 200 * K},
		{name: "future-dated history counts", limit: sms,
			history: []W{{now.Add(time.Hour), 200 * K}}, amount: 1, now: now,
			reason: ReasonDayLimit, remDay: 0, remFive: 400 * K, nextRoom: now.Add(25 * time.Hour),
			usedDay: 200 * K, usedFive: 200 * K},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.limit, tc.history, tc.amount, tc.now, cal)
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Errorf("Allowed, Reason = %v, %s; want %v, %s", d.Allowed, d.Reason, tc.allowed, tc.reason)
			}
			if d.RemainingDay != tc.remDay || d.RemainingFiveDay != tc.remFive {
				t.Errorf("Remaining = %d / %d, want %d / %d", d.RemainingDay, d.RemainingFiveDay, tc.remDay, tc.remFive)
			}
			if d.UsedDay != tc.usedDay || d.UsedFiveDay != tc.usedFive {
				t.Errorf("Used = %d / %d, want %d / %d", d.UsedDay, d.UsedFiveDay, tc.usedDay, tc.usedFive)
			}
			if !d.NextRoomAt.Equal(tc.nextRoom) {
				t.Errorf("NextRoomAt = %v, want %v", d.NextRoomAt.In(ny), tc.nextRoom.In(ny))
			}
			if d.Limit != tc.limit {
				t.Errorf("Limit = %+v", d.Limit)
			}
			if (d.Err() == nil) != d.Allowed {
				t.Errorf("Err() = %v with Allowed %v", d.Err(), d.Allowed)
			}
			// NextRoomAt keeps its promise: at that instant the amount fits.
			if !d.NextRoomAt.IsZero() && d.Reason != ReasonAboveCap {
				if later := Evaluate(tc.limit, tc.history, tc.amount, d.NextRoomAt, cal); !later.Allowed {
					t.Errorf("at NextRoomAt: %+v", later)
				}
				if before := Evaluate(tc.limit, tc.history, tc.amount, d.NextRoomAt.Add(-1), cal); before.Allowed {
					t.Errorf("just before NextRoomAt already allowed")
				}
			}
		})
	}
}

func TestDecisionErr(t *testing.T) {
	cal := Calendar{}
	now := at(2026, 6, 10, 12, 0)
	sms := LimitFor(sls.KindSMS, true)
	d := Evaluate(sms, []Withdrawal{{now.Add(-time.Hour), 150_000 * Dollar}}, 60_000*Dollar, now, cal)
	e := wantRefusal(t, d.Err(), sls.CodeLimitExceeded, "")
	if e.Detail["reason"] != "day_limit" || e.Detail["remaining_day"] != 50_000*Dollar ||
		e.Detail["next_room_at"] != now.Add(23*time.Hour).UTC().Format(time.RFC3339) {
		t.Errorf("detail = %v", e.Detail)
	}
	if want := "This amount is above what is left of the daily withdrawal limit (USD 50,000.00)."; e.Message != want {
		t.Errorf("message = %q", e.Message)
	}
	wantRefusal(t, Evaluate(sms, nil, 0, now, cal).Err(), sls.CodeInvalidArgument, "")
	e = wantRefusal(t, Evaluate(LimitFor(sls.KindIBKey, true), nil, 2_000_000*Dollar, now, cal).Err(), sls.CodeLimitExceeded, "")
	if _, ok := e.Detail["next_room_at"]; ok || e.Detail["reason"] != "above_cap" {
		t.Errorf("detail = %v", e.Detail)
	}
	if err := Evaluate(LimitFor(sls.KindGold, true), nil, 1, now, cal).Err(); err != nil {
		t.Errorf("allowed: %v", err)
	}
}

// Random histories: NextRoomAt is the first instant the amount fits, and
// Used always equals a direct count by the window definitions.
func TestEvaluateRandom(t *testing.T) {
	cal := cal2026(t)
	r := rand.New(rand.NewPCG(1, 2))
	limits := []Limit{LimitFor(sls.KindSMS, true), LimitFor(sls.KindIBKey, true), LimitFor(sls.KindDSC, true), NotInSLSLimit}
	base := at(2026, 12, 15, 0, 0)
	for i := 0; i < 2000; i++ {
		lim := limits[r.IntN(len(limits))]
		now := base.Add(time.Duration(r.Int64N(int64(40 * 24 * time.Hour))))
		var hist []Withdrawal
		for n := r.IntN(8); n > 0; n-- {
			hist = append(hist, Withdrawal{
				At:  now.Add(-time.Duration(r.Int64N(int64(12 * 24 * time.Hour)))),
				USD: r.Int64N(lim.Day/2) + 1,
			})
		}
		amount := r.Int64N(lim.Day) + 1
		d := Evaluate(lim, hist, amount, now, cal)

		var day, five int64
		b0 := cal.BusinessDayOf(now)
		for _, w := range hist {
			if now.Sub(w.At) < 24*time.Hour {
				day += w.USD
			}
			if cal.BusinessDayOf(w.At).Compare(cal.AddBusinessDays(b0, -4)) >= 0 {
				five += w.USD
			}
		}
		if d.UsedDay != day || d.UsedFiveDay != five {
			t.Fatalf("case %d: used %d/%d, direct count %d/%d", i, d.UsedDay, d.UsedFiveDay, day, five)
		}
		if d.Allowed != (amount <= lim.Day-day && amount <= lim.FiveDay-five) {
			t.Fatalf("case %d: allowed %v, used %d/%d amount %d", i, d.Allowed, day, five, amount)
		}
		if d.Allowed {
			continue
		}
		if d.NextRoomAt.IsZero() || !d.NextRoomAt.After(now) {
			t.Fatalf("case %d: NextRoomAt %v not after now %v", i, d.NextRoomAt, now)
		}
		if !Evaluate(lim, hist, amount, d.NextRoomAt, cal).Allowed {
			t.Fatalf("case %d: not allowed at NextRoomAt %v", i, d.NextRoomAt.In(ny))
		}
		if Evaluate(lim, hist, amount, d.NextRoomAt.Add(-1), cal).Allowed {
			t.Fatalf("case %d: already allowed before NextRoomAt %v", i, d.NextRoomAt.In(ny))
		}
	}
}
