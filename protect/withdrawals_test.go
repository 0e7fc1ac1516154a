package protect

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/sqlstore"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

func req(id string, dollars int64) MoneyRequest {
	return MoneyRequest{RequestID: id, Currency: "USD", Amount: usd(dollars)}
}

// Saturday 7 March 2026, 00:00 in New York: a Monday withdrawal stops
// counting in the five-business-day window then (after Tue–Fri).
var satAfterT0 = time.Date(2026, 3, 7, 5, 0, 0, 0, time.UTC)

// TestLimitsPerDeviceAndWindow walks every row of the SPEC §4 table: the
// cap of one withdrawal, the daily window after one full day, and the
// five-business-day window the next day.
func TestLimitsPerDeviceAndWindow(t *testing.T) {
	cases := []struct {
		name      string
		optedOut  bool
		kind      sls.DeviceKind
		day, five int64 // dollars; 0 = unlimited
		basis     string
	}{
		{"not in SLS", true, sls.KindDSCPlus, 50_000, 100_000, policy.BasisNotInSLS},
		{"SMS", false, sls.KindSMS, 200_000, 600_000, policy.BasisDevice},
		{"IB Key", false, sls.KindIBKey, 1_000_000, 1_000_000, policy.BasisDevice},
		{"Security Code Card", false, sls.KindCodeCard, 200_000, 600_000, policy.BasisDevice},
		{"DSC legacy", false, sls.KindDSC, 1_000_000, 1_500_000, policy.BasisDevice},
		{"DSC+", false, sls.KindDSCPlus, 0, 0, policy.BasisDevice},
		{"Platinum", false, sls.KindPlatinum, 0, 0, policy.BasisDevice},
		{"Gold", false, sls.KindGold, 0, 0, policy.BasisDevice},
		{"online card (lowest)", false, sls.KindOnlineCard, 50_000, 100_000, policy.BasisLowest},
		{"temporary passcode (lowest)", false, sls.KindTempPasscode, 50_000, 100_000, policy.BasisLowest},
		{"no device (lowest)", false, "", 50_000, 100_000, policy.BasisLowest},
	}
	e := newEnv(t, nil)
	ctx := context.Background()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.clk.Set(t0)
			acct := fmt.Sprintf("W%d", i)
			e.account(acct, "US")
			u := e.user(fmt.Sprintf("wd%d", i), acct)
			if c.optedOut {
				u.OptedOut = true
			}
			sess := session(u, c.kind, "dev_x")
			if c.day == 0 {
				for j := 0; j < 3; j++ {
					a, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, req(fmt.Sprint("big", j), 1_000_000_000))
					if err != nil || !a.Allowed || !a.Day.Unlimited || a.Day.Limit != nil || a.FiveBusinessDays.Remaining != nil {
						t.Fatalf("unlimited device refused or capped: %+v %v", a, err)
					}
				}
				return
			}
			// One withdrawal above the cap can never fit.
			a, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{Currency: "USD", Amount: FormatAmount("USD", c.day*100+1)})
			if err != nil || a.Allowed || a.Reason != string(policy.ReasonAboveCap) || a.Limit.Basis != c.basis || *a.Day.Limit != c.day*100 {
				t.Fatalf("above cap: %+v %v", a, err)
			}
			// The whole day's limit at once is fine (exactly what is left).
			a, err = e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, req("d1", c.day))
			if err != nil || !a.Allowed || a.Withdrawal == nil || *a.Day.Remaining != c.day*100 {
				t.Fatalf("first withdrawal: %+v %v", a, err)
			}
			// One more cent: the day is used up.
			a, err = e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{RequestID: "d1b", Currency: "USD", Amount: "0.01"})
			want, wantRoom := policy.ReasonDayLimit, t0.Add(24*time.Hour)
			if c.five == c.day {
				want, wantRoom = policy.ReasonBothLimits, satAfterT0
			}
			if codeOf(err) != string(sls.CodeLimitExceeded) || a.Reason != string(want) || !a.NextRoomAt.Equal(wantRoom) || *a.Day.Remaining != 0 {
				t.Fatalf("after a full day: %+v %v, want %s with room at %v", a, err, want, wantRoom)
			}
			// A day later the daily window is empty; the five-day window
			// still holds the first withdrawal.
			e.clk.Set(t0.Add(24 * time.Hour))
			a, err = e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", c.day))
			if err != nil || a.Day.Used != 0 || a.FiveBusinessDays.Used != c.day*100 || *a.FiveBusinessDays.Remaining != (c.five-c.day)*100 {
				t.Fatalf("next day windows: %+v %v", a, err)
			}
			if fits := c.five-c.day >= c.day; a.Allowed != fits {
				t.Fatalf("next day allowed=%v, want %v: %+v", a.Allowed, fits, a)
			}
			if !a.Allowed && a.Reason != string(policy.ReasonFiveDayLimit) {
				t.Fatalf("next day reason %s", a.Reason)
			}
		})
	}
}

// TestBusinessDayWindow checks the five-business-day window across a
// weekend and an operator-added holiday (SPEC §4: rolling five business
// days; weekends and holidays are not business days).
func TestBusinessDayWindow(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("B1", "US")
	u := e.user("betty", "B1")
	sess := session(u, sls.KindSMS, "dev_sms") // 200,000 a day, 600,000 per five business days
	ny := policy.DefaultLocation
	at := func(d int, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, ny) }

	// Thursday, Friday and Saturday: the Saturday one counts toward Monday.
	for i, d := range []int{5, 6, 7} {
		e.clk.Set(at(d, 10))
		if _, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, req(fmt.Sprint("w", i), 200_000)); err != nil {
			t.Fatalf("withdrawal on March %d: %v", d, err)
		}
	}
	// Monday 9 March: the window (Tue 3 … Mon 9) is full.
	e.clk.Set(at(9, 10))
	a, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{Currency: "USD", Amount: "0.01"})
	if err != nil || a.Allowed || a.Reason != string(policy.ReasonFiveDayLimit) || a.FiveBusinessDays.Used != 600_000*100 {
		t.Fatalf("Monday: %+v %v", a, err)
	}
	// Thursday's withdrawal leaves at midnight after the 4th business day
	// following it (Fri, Mon, Tue, Wed): Thursday 12 March 00:00 New York.
	if want := at(12, 0); !a.NextRoomAt.Equal(want) {
		t.Fatalf("next room at %v, want %v", a.NextRoomAt, want)
	}
	// A holiday on Tuesday 10 March pushes it one business day later.
	if _, err := e.svc.AddHoliday(ctx, "operator:test", "2026-03-10", "test holiday"); err != nil {
		t.Fatal(err)
	}
	a, _ = e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{Currency: "USD", Amount: "0.01"})
	if want := at(13, 0); !a.NextRoomAt.Equal(want) {
		t.Fatalf("with the holiday: next room at %v, want %v", a.NextRoomAt, want)
	}
	e.clk.Set(at(13, 0).Add(-time.Microsecond))
	if a, _ := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", 200_000)); a.Allowed {
		t.Fatalf("just before the room frees up: %+v", a)
	}
	e.clk.Set(at(13, 0))
	if a, _ := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", 200_000)); !a.Allowed || *a.FiveBusinessDays.Remaining != 200_000*100 {
		t.Fatalf("when the room frees up: %+v", a)
	}
	// Removing the holiday brings the earlier date back.
	if err := e.svc.DeleteHoliday(ctx, "operator:test", "2026-03-10"); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(at(12, 0))
	if a, _ := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", 200_000)); !a.Allowed {
		t.Fatalf("without the holiday on Thursday: %+v", a)
	}
}

func TestWithdrawalCurrencies(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("C1", "DE")
	u := e.user("carl", "C1")
	sess := session(u, sls.KindCodeCard, "dev_cc")
	_, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{Currency: "EUR", Amount: "100.00"})
	if codeOf(err) != string(sls.CodeInvalidArgument) || condOf(err) != CondRateMissing {
		t.Fatalf("EUR without a rate: %v", err)
	}
	if _, err := e.svc.SetRates(ctx, "operator:test", map[string]string{"eur": "1.0834", "JPY": "0.0067"}, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetRates(ctx, "operator:test", map[string]string{"EUR": "-1"}, false, ""); codeOf(err) != string(sls.CodeInvalidArgument) {
		t.Fatalf("negative rate: %v", err)
	}
	// Outside the sane band, or too far from the last rate: refused,
	// unless forced with a reason (audited).
	for _, bad := range []string{"0.00000001", "2.5", "0.4"} {
		if _, err := e.svc.SetRates(ctx, "operator:test", map[string]string{"EUR": bad}, false, ""); codeOf(err) != string(sls.CodeInvalidArgument) {
			t.Fatalf("EUR %s: %v", bad, err)
		}
	}
	if _, err := e.svc.SetRates(ctx, "operator:test", map[string]string{"EUR": "0.4"}, true, "short"); codeOf(err) != string(sls.CodeInvalidArgument) {
		t.Fatalf("forced without a real reason: %v", err)
	}
	if _, err := e.svc.SetRates(ctx, "operator:test", map[string]string{"EUR": "0.4"}, true, "devaluation announced, ticket 5"); err != nil {
		t.Fatalf("forced: %v", err)
	}
	if _, err := e.svc.SetRates(ctx, "operator:test", map[string]string{"EUR": "1.0834"}, true, "back after the test of the override"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cur, amount string
		cents       int64 // rounded up: a limit never shrinks by rounding
		code        string
	}{
		{"EUR", "100.01", 10836, ""}, // 100.01 × 1.0834 = 108.350834
		{"eur", "1", 109, ""},        // 1.0834 → 1.09
		{"JPY", "1000", 670, ""},
		{"JPY", "1000.5", 0, "invalid_argument"},
		{"USD", "-5", 0, "invalid_argument"},
		{"USD", "0", 0, "invalid_argument"},
		{"USD", "1e3", 0, "invalid_argument"},
		{"XAU", "1", 0, "invalid_argument"},
		{"GBP", "1", 0, "invalid_argument"},
	}
	for _, c := range cases {
		a, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{Currency: c.cur, Amount: c.amount})
		if codeOf(err) != c.code || (err == nil && (a.AmountUSD != c.cents || !a.Allowed)) {
			t.Errorf("%s %s: %+v %v, want %d cents / %q", c.cur, c.amount, a, err, c.cents, c.code)
		}
	}
	a, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{RequestID: "eur-1", Currency: "EUR", Amount: "100.01"})
	if err != nil || a.Withdrawal.USD != 10836 || a.Withdrawal.Currency != "EUR" || a.Withdrawal.AmountMinor != 10001 || a.Rate != "1.0834" {
		t.Fatalf("record EUR: %+v %v", a, err)
	}
}

func TestWithdrawalIdempotent(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("I1", "US")
	u := e.user("ida", "I1")
	sess := session(u, sls.KindCodeCard, "dev_cc")
	first, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, req("pay-1", 150_000))
	if err != nil || first.Replayed {
		t.Fatal(first, err)
	}
	again, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, req("pay-1", 150_000))
	if err != nil || !again.Replayed || again.Withdrawal.ID != first.Withdrawal.ID || again.Day.Used != 150_000*100 {
		t.Fatalf("retry: %+v %v", again, err)
	}
	if _, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, req("pay-1", 1)); codeOf(err) != string(sls.CodeConflict) {
		t.Fatalf("same id, other amount: %v", err)
	}
	for _, bad := range []string{"", "has space", string(make([]byte, 65))} {
		if _, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, req(bad, 1)); codeOf(err) != string(sls.CodeInvalidArgument) {
			t.Errorf("request id %q: %v", bad, err)
		}
	}
	// Reversal frees the room; reversing twice is a conflict.
	if _, err := e.svc.ReverseWithdrawal(ctx, "operator:test", first.Withdrawal.ID, "bank returned it"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReverseWithdrawal(ctx, "operator:test", first.Withdrawal.ID, "again"); codeOf(err) != string(sls.CodeConflict) {
		t.Fatalf("second reversal: %v", err)
	}
	a, _ := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", 200_000))
	if !a.Allowed || a.Day.Used != 0 {
		t.Fatalf("after reversal: %+v", a)
	}
	list, err := e.svc.Movements(ctx, "I1", sls.MoveWithdrawal, time.Time{})
	if err != nil || len(list) != 1 || list[0].ReversedAt.IsZero() {
		t.Fatalf("movements: %+v %v", list, err)
	}
}

// TestStepUp confirms a withdrawal with a stronger device than the one of
// the session: the confirming device sets the limit, for that withdrawal
// only.
func TestStepUp(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("S1", "US")
	u := e.user("sue", "S1")
	dsc, key := e.dsc(u, "2468")
	sess := session(u, sls.KindCodeCard, "dev_cc") // 200,000 a day
	big := MoneyRequest{Currency: "USD", Amount: usd(500_000)}
	if a, _ := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, big); a.Allowed {
		t.Fatalf("500,000 with a code card: %+v", a)
	}
	start, err := e.svc.StartStepUp(ctx, sess, u, StepUpRequest{DeviceID: dsc.ID, Currency: "USD", Amount: usd(500_000)})
	if err != nil || start.Prompt == nil || !strings.HasPrefix(start.Prompt.Challenge[4:], "0000500000") {
		t.Fatalf("start: %+v %v", start, err)
	}
	big.ConfirmationID = start.ConfirmationID
	if _, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, big); codeOf(err) != string(sls.CodeForbidden) {
		t.Fatalf("unanswered confirmation: %v", err)
	}
	// A wrong answer counts toward the user's lockout.
	if _, err := e.svc.AnswerStepUp(ctx, sess, start.ConfirmationID, "00000000"); codeOf(err) != string(sls.CodeBadResponse) {
		t.Fatalf("wrong answer: %v", err)
	}
	if e.reload(u).FailedAnswers != 1 {
		t.Fatal("wrong answer not counted")
	}
	// Another session cannot use or answer it.
	other := session(u, sls.KindCodeCard, "dev_cc")
	resp, _ := dscplus.RespondPrompt(key, "2468", start.Prompt)
	if _, err := e.svc.AnswerStepUp(ctx, other, start.ConfirmationID, resp); codeOf(err) != string(sls.CodeNotFound) {
		t.Fatalf("other session answering: %v", err)
	}
	res, err := e.svc.AnswerStepUp(ctx, sess, start.ConfirmationID, resp)
	if err != nil || !res.Confirmed || res.DeviceKind != sls.KindDSCPlus || e.reload(u).FailedAnswers != 0 {
		t.Fatalf("right answer: %+v %v", res, err)
	}
	// Bound to the amount.
	if _, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{Currency: "USD", Amount: usd(500_001), ConfirmationID: start.ConfirmationID}); codeOf(err) != string(sls.CodeInvalidArgument) {
		t.Fatalf("other amount: %v", err)
	}
	a, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, big)
	if err != nil || !a.Allowed || a.Limit.Source != "confirmation" || a.Limit.DeviceKind != sls.KindDSCPlus || !a.Day.Unlimited {
		t.Fatalf("check with confirmation: %+v %v", a, err)
	}
	big.RequestID = "big-1"
	a, err = e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, big)
	if err != nil || a.Withdrawal.DeviceKind != sls.KindDSCPlus {
		t.Fatalf("record with confirmation: %+v %v", a, err)
	}
	// Used once.
	big.RequestID = "big-2"
	if _, err := e.svc.RecordWithdrawal(ctx, e.fresh(sess), u, big); codeOf(err) != string(sls.CodeConflict) {
		t.Fatalf("second use: %v", err)
	}
	// The 500,000 counts for the code card's window too.
	if a, _ := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", 1)); a.Allowed || a.Reason != string(policy.ReasonDayLimit) {
		t.Fatalf("code card after the big withdrawal: %+v", a)
	}
	// A confirmation expires.
	start, _ = e.svc.StartStepUp(ctx, sess, u, StepUpRequest{DeviceID: dsc.ID, Currency: "USD", Amount: "10.00"})
	resp, _ = dscplus.RespondPrompt(key, "2468", start.Prompt)
	if _, err := e.svc.AnswerStepUp(ctx, sess, start.ConfirmationID, resp); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(6 * time.Minute)
	if _, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, MoneyRequest{Currency: "USD", Amount: "10.00", ConfirmationID: start.ConfirmationID}); codeOf(err) != string(sls.CodeForbidden) {
		t.Fatalf("expired confirmation: %v", err)
	}
	// A device of someone else is not offered.
	e.account("S2", "US")
	v := e.user("vic", "S2")
	vd, _ := e.dsc(v, "1357")
	if _, err := e.svc.StartStepUp(ctx, sess, u, StepUpRequest{DeviceID: vd.ID, Currency: "USD", Amount: "1"}); codeOf(err) != string(sls.CodeNotFound) {
		t.Fatalf("another user's device: %v", err)
	}
}

// TestConcurrentWithdrawalsTwoNodes races withdrawals through two stores
// (two nodes) on one database: the total booked never passes the limit,
// and the answers agree with what was booked. SQLite always; PostgreSQL
// when SLS_TEST_POSTGRES is set.
func TestConcurrentWithdrawalsTwoNodes(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sls.db")
		raceWithdrawals(t, path)
	})
	t.Run("postgres", func(t *testing.T) {
		raceWithdrawals(t, storetest.PostgresDSN(t))
	})
}

func raceWithdrawals(t *testing.T, dsn string) {
	ctx := context.Background()
	open := func() sls.Store {
		db, err := sqlstore.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	clk, sealer := clock.NewFake(t0), testSealer(t)
	a, b := newEnvWith(t, open(), clk, sealer), newEnvWith(t, open(), clk, sealer)
	a.account("R1", "US")
	u := a.user("rachel", "R1")
	sess := session(u, sls.KindSMS, "dev_sms") // 200,000 a day
	const n, each = 40, 30_000
	var wg sync.WaitGroup
	type result struct {
		ok  bool
		err error
	}
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := a.svc
			if i%2 == 1 {
				svc = b.svc
			}
			ans, err := svc.RecordWithdrawal(ctx, a.fresh(sess), u, req(fmt.Sprint("race-", i), each))
			results <- result{ok: err == nil && ans.Withdrawal != nil, err: err}
		}()
	}
	wg.Wait()
	close(results)
	booked := 0
	for r := range results {
		switch {
		case r.ok:
			booked++
		case codeOf(r.err) != string(sls.CodeLimitExceeded):
			t.Fatalf("unexpected error: %v", r.err)
		}
	}
	if booked != 200_000/each {
		t.Fatalf("%d withdrawals of %d booked, want %d", booked, each, 200_000/each)
	}
	for _, e := range []*env{a, b} {
		ans, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", 1))
		if err != nil || ans.Day.Used != int64(booked*each*100) || *ans.Day.Remaining != int64(200_000-booked*each)*100 {
			t.Fatalf("check after the race: %+v %v", ans, err)
		}
	}
	var total int64
	if err := a.store.View(ctx, func(tx sls.Tx) error {
		var err error
		total, err = tx.MoneyMovementTotal(ctx, "R1", sls.MoveWithdrawal)
		return err
	}); err != nil || total > 200_000*100 {
		t.Fatalf("total %d %v", total, err)
	}
}

func TestBenefitsAndACH(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("A1", "US")
	in := e.user("inga", "A1")
	out := e.user("olaf", "A1")
	out.OptedOut = true
	for _, c := range []struct {
		u       *sls.User
		benefit string
		allowed bool
	}{
		{in, BenefitBankingChange, true}, {in, BenefitEmailChange, true},
		{out, BenefitBankingChange, false}, {out, BenefitEmailChange, false},
	} {
		a, err := e.svc.CheckBenefit(ctx, c.u, c.benefit)
		if err != nil || a.Allowed != c.allowed || (!c.allowed && a.Condition != policy.CondNotInSLS) {
			t.Errorf("%s %s: %+v %v", c.u.Username, c.benefit, a, err)
		}
	}
	if _, err := e.svc.CheckBenefit(ctx, in, "nothing"); codeOf(err) != string(sls.CodeNotFound) {
		t.Errorf("unknown benefit: %v", err)
	}
	sess := session(out, "", "")
	steps := []struct {
		dollars int64
		ok      bool
		left    int64 // dollars left after
	}{{15_000, true, 5_000}, {6_000, false, 5_000}, {5_000, true, 0}, {1, false, 0}}
	for i, s := range steps {
		a, err := e.svc.RecordACH(ctx, sess, out, req(fmt.Sprint("ach-", i), s.dollars))
		if (err == nil) != s.ok {
			t.Fatalf("step %d: %+v %v", i, a, err)
		}
		if !s.ok && (codeOf(err) != string(sls.CodeNotEligible) || condOf(err) != policy.CondACHInitialLimit) {
			t.Fatalf("step %d refusal: %v", i, err)
		}
		chk, _ := e.svc.CheckACH(ctx, out, req("", 1))
		if *chk.Remaining != s.left*100 {
			t.Fatalf("step %d: remaining %d, want %d", i, *chk.Remaining, s.left*100)
		}
	}
	// The same account's SLS participant has no cap.
	a, err := e.svc.RecordACH(ctx, session(in, sls.KindDSCPlus, "d"), in, req("ach-in", 1_000_000))
	if err != nil || !a.Allowed || a.Remaining != nil || a.FundedSoFar != 20_000*100 {
		t.Fatalf("participant: %+v %v", a, err)
	}
	// Retried funding is not booked twice.
	again, err := e.svc.RecordACH(ctx, session(in, sls.KindDSCPlus, "d"), in, req("ach-in", 1_000_000))
	if err != nil || !again.Replayed || again.FundedSoFar != a.FundedSoFar+a.AmountUSD {
		t.Fatalf("retry: %+v %v", again, err)
	}
}

// A session whose device was proven longer ago than the confirmation
// validity withdraws as if by password alone; proving the device again
// (or a confirmation) brings its limit back.
func TestStaleSessionGetsThePasswordLimit(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.account("ST1", "US")
	u := e.user("stan", "ST1")
	sess := e.fresh(session(u, sls.KindIBKey, "dev_ibk")) // 1,000,000 a day while fresh
	if a, err := e.svc.CheckWithdrawal(ctx, sess, u, req("", 500_000)); err != nil || !a.Allowed {
		t.Fatalf("fresh IB Key session: %+v %v", a, err)
	}
	e.clk.Advance(6 * time.Minute)
	a, err := e.svc.CheckWithdrawal(ctx, sess, u, req("", 500_000))
	if err != nil || a.Allowed || a.Limit.Source != "session_not_recent" || a.Limit.DeviceKind != "" {
		t.Fatalf("stale session kept its device's limit: %+v %v", a, err)
	}
	if a, err := e.svc.CheckWithdrawal(ctx, e.fresh(sess), u, req("", 500_000)); err != nil || !a.Allowed {
		t.Fatalf("proven again: %+v %v", a, err)
	}
}
