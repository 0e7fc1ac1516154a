package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("PolicyMoneyMovements", testMoneyMovements)
	Register("PolicyMoneyMovementsAppendOnly", testMoneyMovementsAppendOnly)
	Register("PolicyConcurrentWithdrawals", testConcurrentWithdrawals)
	Register("PolicyStepUps", testStepUps)
	Register("PolicySupersedeStepUps", testSupersedeStepUps)
	Register("PolicyProtectionSettings", testProtectionSettings)
	Register("PolicyRatesAndHolidays", testRatesAndHolidays)
	Register("PolicyDeviceOrders", testDeviceOrders)
	Register("PolicyOrderNotices", testOrderNotices)
	Register("PolicyDepositLedger", testDepositLedger)
	Register("PolicyConcurrentDeposits", testConcurrentDeposits)
	Register("PolicyDevicesBySerialAndExpiry", testDevicesBySerialAndExpiry)
}

func move(u *sls.User, id, req string, usd int64, at time.Time) *sls.MoneyMovement {
	return &sls.MoneyMovement{ID: id, Kind: sls.MoveWithdrawal, AccountID: u.AccountID, UserID: u.ID, RequestID: req,
		Currency: "USD", AmountMinor: usd, USD: usd, DeviceKind: sls.KindSMS, SessionID: "ses_1", At: at}
}

func testMoneyMovements(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "mona")
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for i, at := range []time.Time{t0.Add(-48 * time.Hour), t0, t0.Add(time.Hour)} {
			ok, err := tx.AddMoneyMovement(ctx, move(u, fmt.Sprintf("mov_%d", i), fmt.Sprintf("req-%d", i), int64(100*(i+1)), at))
			if err != nil || !ok {
				return fmt.Errorf("add %d: %v %v", i, ok, err)
			}
		}
		// The same request id again: nothing stored, no error, and the
		// transaction goes on (PostgreSQL would abort it on a failed INSERT).
		ok, err := tx.AddMoneyMovement(ctx, move(u, "mov_dup", "req-1", 999, t0))
		if err != nil || ok {
			return fmt.Errorf("duplicate request: %v %v", ok, err)
		}
		// Another kind may reuse the request id.
		ach := move(u, "mov_ach", "req-1", 50, t0)
		ach.Kind = sls.MoveACHFunding
		if ok, err := tx.AddMoneyMovement(ctx, ach); err != nil || !ok {
			return fmt.Errorf("ach with same request id: %v %v", ok, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		return tx.ReverseMoneyMovement(ctx, "mov_2", t0.Add(2*time.Hour), "operator:ops", "bank refused")
	})
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.ReverseMoneyMovement(context.Background(), "mov_2", t0, "x", "again")
	})
	if !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("second reversal: %v, want conflict", err)
	}
	err = s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.ReverseMoneyMovement(context.Background(), "mov_nope", t0, "x", "y")
	})
	if !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("reversal of unknown: %v, want not found", err)
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.MoneyMovements(ctx, u.AccountID, sls.MoveWithdrawal, t0.Add(-time.Hour), false)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != "mov_1" || list[0].USD != 200 || !list[0].At.Equal(t0) || list[0].DeviceKind != sls.KindSMS {
			return fmt.Errorf("window without reversed: %+v", list)
		}
		all, err := tx.MoneyMovements(ctx, u.AccountID, sls.MoveWithdrawal, time.Time{}.Add(time.Hour), true)
		if err != nil || len(all) != 3 || all[0].ID != "mov_0" || all[2].ReversedBy != "operator:ops" || all[2].ReverseReason != "bank refused" {
			return fmt.Errorf("all: %+v %v", all, err)
		}
		total, err := tx.MoneyMovementTotal(ctx, u.AccountID, sls.MoveWithdrawal)
		if err != nil || total != 300 {
			return fmt.Errorf("total %d %v, want 300 (reversed left out)", total, err)
		}
		if total, _ := tx.MoneyMovementTotal(ctx, "U-none", sls.MoveWithdrawal); total != 0 {
			return fmt.Errorf("empty total %d", total)
		}
		got, err := tx.MoneyMovementByRequest(ctx, u.AccountID, sls.MoveACHFunding, "req-1")
		if err != nil || got.ID != "mov_ach" {
			return fmt.Errorf("by request: %v %v", got, err)
		}
		if _, err := tx.MoneyMovementByRequest(ctx, u.AccountID, sls.MoveWithdrawal, "nope"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("unknown request: %v", err)
		}
		return nil
	})
}

// testMoneyMovementsAppendOnly checks that the database itself refuses to
// delete a booking or change its amount, and to change or delete the
// deposit ledger or an order's history.
func testMoneyMovementsAppendOnly(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "nora")
	o := newOrder(u, "ord_ao", t0)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.AddMoneyMovement(ctx, move(u, "mov_a", "r", 100, t0)); err != nil {
			return err
		}
		if err := tx.CreateDeviceOrder(ctx, o); err != nil {
			return err
		}
		if _, err := tx.AddDepositEntry(ctx, entry(o, sls.DepositHold, 2000)); err != nil {
			return err
		}
		return tx.AppendDeviceOrderEvent(ctx, &sls.DeviceOrderEvent{OrderID: o.ID, At: t0, Event: "order", To: "ordered", Actor: "system"})
	})
	type execer interface {
		ExecRaw(ctx context.Context, query string) error
	}
	for _, q := range []string{
		"DELETE FROM money_movements WHERE id = 'mov_a'",
		"UPDATE money_movements SET usd_cents = 1 WHERE id = 'mov_a'",
		"UPDATE money_movements SET at = 0 WHERE id = 'mov_a'",
		"DELETE FROM deposit_ledger WHERE order_id = 'ord_ao'",
		"UPDATE deposit_ledger SET usd_cents = 0 WHERE order_id = 'ord_ao'",
		"UPDATE device_order_events SET event = 'x' WHERE order_id = 'ord_ao'",
		"DELETE FROM device_order_events WHERE order_id = 'ord_ao'",
	} {
		err := s.Update(context.Background(), func(tx sls.Tx) error {
			ex, ok := tx.(execer)
			if !ok {
				t.Skip("store has no raw SQL access")
			}
			return ex.ExecRaw(context.Background(), q)
		})
		if err == nil {
			t.Errorf("%q succeeded", q)
		}
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		m, err := tx.MoneyMovement(ctx, "mov_a")
		if err != nil || m.USD != 100 {
			return fmt.Errorf("booking changed: %+v %v", m, err)
		}
		return nil
	})
	// Reversal is the one change allowed.
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		return tx.ReverseMoneyMovement(ctx, "mov_a", t0, "operator:ops", "returned by the bank")
	})
}

// testConcurrentWithdrawals is the pattern the withdrawal service uses:
// lock the account, sum the window, book if it fits. However many run at
// once, the total never passes the cap.
func testConcurrentWithdrawals(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "otto")
	const limit, each, n = 1000, 70, 40
	var booked atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := s.Update(context.Background(), func(tx sls.Tx) error {
				ctx := context.Background()
				ok = false
				if _, err := tx.AccountForUpdate(ctx, u.AccountID); err != nil {
					return err
				}
				list, err := tx.MoneyMovements(ctx, u.AccountID, sls.MoveWithdrawal, t0.Add(-24*time.Hour), false)
				if err != nil {
					return err
				}
				var used int64
				for _, m := range list {
					used += m.USD
				}
				if used+each > limit {
					return nil
				}
				ok, err = tx.AddMoneyMovement(ctx, move(u, sls.NewID("mov"), fmt.Sprint("r", i), each, t0))
				return err
			})
			if ok && err == nil {
				booked.Add(each)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		total, err := tx.MoneyMovementTotal(ctx, u.AccountID, sls.MoveWithdrawal)
		if err != nil {
			return err
		}
		if total > limit || total != booked.Load() || total != limit/each*each {
			return fmt.Errorf("booked %d (reported %d), limit %d", total, booked.Load(), limit)
		}
		return nil
	})
}

func testStepUps(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "pia")
	su := &sls.StepUp{DeviceKind: sls.KindDSCPlus, Challenge: sls.Challenge{IDHash: "h1", Purpose: sls.PurposeWithdrawal, UserID: u.ID,
		Bound: sls.Binding{SessionID: "ses_1", Currency: "EUR", AmountMinor: 12345, Payee: "DE89370400440532013000"}, DeviceID: "dev_1", Platform: sls.PlatformPortal,
		ClientIP: "192.0.2.7", UserAgent: "ua", Prompt: &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: "123456"}, FactorState: []byte("fs"),
		CreatedAt: t0, Deadline: t0.Add(3 * time.Minute)}}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateStepUp(ctx, su) })
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.StepUpForUpdate(ctx, "h1")
		if err != nil {
			return err
		}
		if got.Prompt == nil || got.Prompt.Challenge != "123456" || string(got.FactorState) != "fs" || got.Bound.AmountMinor != 12345 ||
			got.Bound.Currency != "EUR" || got.Bound.SessionID != "ses_1" || got.Bound.Payee != "DE89370400440532013000" || got.Purpose != sls.PurposeWithdrawal ||
			got.Platform != sls.PlatformPortal || got.ClientIP != "192.0.2.7" || got.UserAgent != "ua" || !got.Deadline.Equal(su.Deadline) || !got.VerifiedAt.IsZero() {
			return fmt.Errorf("round trip: %+v", got)
		}
		if plain, err := tx.StepUp(ctx, "h1"); err != nil || plain.UserID != u.ID {
			return fmt.Errorf("plain read: %v %v", plain, err)
		}
		got.Attempts, got.VerifiedAt, got.UsedAt = 2, t0.Add(time.Minute), t0.Add(2*time.Minute)
		return tx.PutStepUp(ctx, got)
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.StepUpForUpdate(ctx, "h1")
		if err != nil || got.Attempts != 2 || !got.UsedAt.Equal(t0.Add(2*time.Minute)) {
			return fmt.Errorf("after put: %+v %v", got, err)
		}
		if _, err := tx.StepUpForUpdate(ctx, "nope"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("unknown: %v", err)
		}
		n, err := tx.DeleteStepUpsBefore(ctx, t0.Add(time.Hour))
		if err != nil || n != 1 {
			return fmt.Errorf("purge: %d %v", n, err)
		}
		return nil
	})
}

func testSupersedeStepUps(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "pim")
	mk := func(id, session string, purpose sls.Purpose, verified time.Time) *sls.StepUp {
		return &sls.StepUp{DeviceKind: sls.KindDSCPlus, VerifiedAt: verified, Challenge: sls.Challenge{IDHash: id, Purpose: purpose,
			UserID: u.ID, Bound: sls.Binding{SessionID: session}, DeviceID: "dev_1", FactorState: []byte("fs"),
			CreatedAt: t0, Deadline: t0.Add(3 * time.Minute)}}
	}
	rows := []*sls.StepUp{
		mk("pending", "ses_1", sls.PurposeStepUp, time.Time{}),
		mk("answered", "ses_1", sls.PurposeStepUp, t0.Add(time.Second)),
		mk("withdrawal", "ses_1", sls.PurposeWithdrawal, time.Time{}),
		mk("other", "ses_2", sls.PurposeStepUp, time.Time{}),
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, r := range rows {
			if err := tx.CreateStepUp(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	now := t0.Add(time.Minute)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		pending, err := tx.PendingStepUps(ctx, "ses_1", sls.PurposeStepUp, now)
		if err != nil || len(pending) != 1 || pending[0].IDHash != "pending" || pending[0].Bound.SessionID != "ses_1" {
			return fmt.Errorf("pending: %+v %v", pending, err)
		}
		if late, err := tx.PendingStepUps(ctx, "ses_1", sls.PurposeStepUp, t0.Add(3*time.Minute)); err != nil || len(late) != 0 {
			return fmt.Errorf("pending after the deadline: %+v %v", late, err)
		}
		n, err := tx.SupersedeStepUps(ctx, "ses_1", sls.PurposeStepUp, now)
		if err != nil || n != 1 {
			return fmt.Errorf("supersede: %d %v", n, err)
		}
		for id, wantEnded := range map[string]bool{"pending": true, "answered": false, "withdrawal": false, "other": false} {
			got, err := tx.StepUp(ctx, id)
			if err != nil {
				return err
			}
			if ended := !got.Deadline.After(now); ended != wantEnded {
				return fmt.Errorf("%s: deadline %v, ended %v, want %v", id, got.Deadline, ended, wantEnded)
			}
			if wantEnded && got.FactorState != nil {
				return fmt.Errorf("%s: factor state kept after supersede", id)
			}
		}
		if pending, err := tx.PendingStepUps(ctx, "ses_1", sls.PurposeStepUp, now); err != nil || len(pending) != 0 {
			return fmt.Errorf("pending after supersede: %+v %v", pending, err)
		}
		// A second call finds nothing pending.
		if n, err := tx.SupersedeStepUps(ctx, "ses_1", sls.PurposeStepUp, now); err != nil || n != 0 {
			return fmt.Errorf("second supersede: %d %v", n, err)
		}
		return nil
	})
}

func testProtectionSettings(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "quin")
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		p, err := tx.ProtectionSettings(ctx, u.ID)
		if err != nil || p.UserID != u.ID || len(p.IPRestrictions) != 0 || p.PennyStock || !p.UpdatedAt.IsZero() {
			return fmt.Errorf("default settings: %+v %v", p, err)
		}
		return nil
	})
	p := &sls.ProtectionSettings{UserID: u.ID, IPRestrictions: []string{"203.0.113.0/24", "2001:db8::/48"}, PennyStock: true,
		SealedShippingAddress: []byte("sealed"), UpdatedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutProtectionSettings(ctx, p) })
	p.IPRestrictions, p.UpdatedAt = []string{}, t0.Add(time.Hour)
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.ProtectionSettings(ctx, u.ID)
		if err != nil || !slices.Equal(got.IPRestrictions, []string{"203.0.113.0/24", "2001:db8::/48"}) || !got.PennyStock ||
			string(got.SealedShippingAddress) != "sealed" || !got.UpdatedAt.Equal(t0) {
			return fmt.Errorf("round trip: %+v %v", got, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutProtectionSettings(ctx, p) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.ProtectionSettings(ctx, u.ID)
		if err != nil || len(got.IPRestrictions) != 0 || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
			return fmt.Errorf("cleared: %+v %v", got, err)
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.PutProtectionSettings(context.Background(), &sls.ProtectionSettings{UserID: u.ID, IPRestrictions: []string{"a\nb"}})
	})
	if err == nil {
		t.Fatal("an entry with a newline was stored")
	}
}

func testRatesAndHolidays(t *testing.T, s sls.Store) {
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, r := range []sls.ExchangeRate{
			{Currency: "EUR", Rate: "1.08", UpdatedAt: t0, UpdatedBy: "operator:a"},
			{Currency: "JPY", Rate: "0.0067", UpdatedAt: t0, UpdatedBy: "operator:a"},
			{Currency: "EUR", Rate: "1.0834", UpdatedAt: t0.Add(time.Hour), UpdatedBy: "operator:b"},
		} {
			if err := tx.PutExchangeRate(ctx, r); err != nil {
				return err
			}
		}
		for _, h := range []sls.Holiday{
			{Date: "2026-12-25", Name: "Christmas", CreatedAt: t0},
			{Date: "2026-01-01", CreatedAt: t0},
			{Date: "2026-12-25", Name: "Christmas Day", CreatedAt: t0},
		} {
			if err := tx.PutHoliday(ctx, h); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		rs, err := tx.ExchangeRates(ctx)
		if err != nil || len(rs) != 2 || rs[0].Currency != "EUR" || rs[0].Rate != "1.0834" || rs[0].UpdatedBy != "operator:b" || !rs[0].UpdatedAt.Equal(t0.Add(time.Hour)) {
			return fmt.Errorf("rates: %+v %v", rs, err)
		}
		hs, err := tx.Holidays(ctx)
		if err != nil || len(hs) != 2 || hs[0].Date != "2026-01-01" || hs[1].Name != "Christmas Day" {
			return fmt.Errorf("holidays: %+v %v", hs, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.DeleteExchangeRate(ctx, "JPY"); err != nil {
			return err
		}
		if err := tx.DeleteExchangeRate(ctx, "JPY"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("delete twice: %v", err)
		}
		if err := tx.DeleteHoliday(ctx, "2026-01-01"); err != nil {
			return err
		}
		if err := tx.DeleteHoliday(ctx, "2026-01-01"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("delete twice: %v", err)
		}
		return nil
	})
}

func newOrder(u *sls.User, id string, at time.Time) *sls.DeviceOrder {
	return &sls.DeviceOrder{ID: id, UserID: u.ID, AccountID: u.AccountID, Kind: sls.KindDSCPlus, Origin: sls.OriginOrder,
		State: "ordered", SealedAddress: []byte("addr"), SealedPIN: []byte("pin"), DepositUSD: 2000, ExpectedDelivery: "2026-03-16",
		OrderedAt: at, UpdatedAt: at}
}

func testDeviceOrders(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "rita")
	o := newOrder(u, "ord_1", t0)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.CreateDeviceOrder(ctx, o); err != nil {
			return err
		}
		return tx.CreateDeviceOrder(ctx, newOrder(u, "ord_2", t0.Add(time.Minute)))
	})
	if err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.CreateDeviceOrder(context.Background(), o) }); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("duplicate order: %v", err)
	}
	o.State, o.DeviceID, o.Serial, o.SealedPIN, o.Carrier, o.Tracking = "delivered", "dev_9", "DSC-9", nil, "DHL", "JD0001"
	o.ShippedAt, o.DeliveredAt, o.AutoActivateAt = t0.Add(time.Hour), t0.Add(48*time.Hour), t0.Add(48*time.Hour+21*24*time.Hour)
	o.ActivationChallenge, o.ActivationDeadline, o.UpdatedAt = "123456", t0.Add(49*time.Hour), t0.Add(48*time.Hour)
	o.ReturnReason, o.ReturnRegion, o.Assessment, o.FeeUSD = "damage", "europe", "intact", 500
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.DeviceOrderForUpdate(ctx, o.ID); err != nil {
			return err
		}
		if err := tx.PutDeviceOrder(ctx, o); err != nil {
			return err
		}
		for _, ev := range []string{"order", "ship", "deliver"} {
			e := &sls.DeviceOrderEvent{OrderID: o.ID, At: t0, Event: ev, To: ev + "ed", Actor: "operator:ops", Detail: `{"x":1}`}
			if err := tx.AppendDeviceOrderEvent(ctx, e); err != nil {
				return err
			}
			if ev == "deliver" && e.Seq != 3 {
				return fmt.Errorf("seq %d, want 3", e.Seq)
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.DeviceOrder(ctx, o.ID)
		if err != nil {
			return err
		}
		if got.State != "delivered" || got.DeviceID != "dev_9" || got.SealedPIN != nil || string(got.SealedAddress) != "addr" ||
			!got.AutoActivateAt.Equal(o.AutoActivateAt) || got.ActivationChallenge != "123456" || got.FeeUSD != 500 ||
			got.Assessment != "intact" || !got.OrderedAt.Equal(t0) || got.Tracking != "JD0001" {
			return fmt.Errorf("round trip: %+v", got)
		}
		for _, c := range []struct {
			f    sls.DeviceOrderFilter
			want []string
		}{
			{sls.DeviceOrderFilter{UserID: u.ID}, []string{"ord_1", "ord_2"}},
			{sls.DeviceOrderFilter{AccountID: u.AccountID, State: "ordered"}, []string{"ord_2"}},
			{sls.DeviceOrderFilter{DeviceID: "dev_9"}, []string{"ord_1"}},
			{sls.DeviceOrderFilter{State: "delivered", AutoActivateBefore: o.AutoActivateAt}, []string{"ord_1"}},
			{sls.DeviceOrderFilter{State: "delivered", AutoActivateBefore: o.AutoActivateAt.Add(-time.Microsecond)}, nil},
			{sls.DeviceOrderFilter{UserID: u.ID, Limit: 1}, []string{"ord_1"}},
		} {
			list, err := tx.DeviceOrders(ctx, c.f)
			if err != nil {
				return err
			}
			var ids []string
			for _, o := range list {
				ids = append(ids, o.ID)
			}
			if !slices.Equal(ids, c.want) {
				return fmt.Errorf("filter %+v: %v, want %v", c.f, ids, c.want)
			}
		}
		evs, err := tx.DeviceOrderEvents(ctx, o.ID)
		if err != nil || len(evs) != 3 || evs[2].Event != "deliver" || evs[2].Seq != 3 || evs[0].Detail != `{"x":1}` {
			return fmt.Errorf("events: %+v %v", evs, err)
		}
		if _, err := tx.DeviceOrder(ctx, "ord_x"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("unknown order: %v", err)
		}
		return nil
	})
}

func testOrderNotices(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "sami")
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateDeviceOrder(ctx, newOrder(u, "ord_n", t0)) })
	var wg sync.WaitGroup
	var firsts atomic.Int32
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), func(tx sls.Tx) error {
				ok, err := tx.MarkOrderNotice(context.Background(), "ord_n", "168h0m0s", t0)
				if ok {
					firsts.Add(1)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Fatalf("notice marked first %d times, want once", firsts.Load())
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		m, err := tx.OrderNotices(ctx, "ord_n")
		if err != nil || len(m) != 1 || !m["168h0m0s"].Equal(t0) {
			return fmt.Errorf("notices: %v %v", m, err)
		}
		return nil
	})
}

func entry(o *sls.DeviceOrder, kind string, usd int64) *sls.DepositEntry {
	return &sls.DepositEntry{ID: sls.NewID("dep"), OrderID: o.ID, AccountID: o.AccountID, UserID: o.UserID, Kind: kind, USD: usd,
		At: t0, Actor: "system", Reason: "test"}
}

func testDepositLedger(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "tina")
	o1, o2 := newOrder(u, "ord_a", t0), newOrder(u, "ord_b", t0)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.CreateDeviceOrder(ctx, o1); err != nil {
			return err
		}
		if err := tx.CreateDeviceOrder(ctx, o2); err != nil {
			return err
		}
		for _, c := range []struct {
			e    *sls.DepositEntry
			want bool
		}{
			{entry(o1, sls.DepositHold, 2000), true},
			{entry(o1, sls.DepositHold, 2000), false}, // a second hold
			{entry(o1, sls.DepositFee, 500), true},
			{entry(o1, sls.DepositRelease, 2000), true},
			{entry(o1, sls.DepositForfeit, 2000), false}, // already settled
			{entry(o1, sls.DepositRelease, 2000), false},
			{entry(o2, sls.DepositHold, 2000), true},
			{entry(o2, sls.DepositForfeit, 2000), true},
		} {
			ok, err := tx.AddDepositEntry(ctx, c.e)
			if err != nil || ok != c.want {
				return fmt.Errorf("%s %s: %v %v, want %v", c.e.OrderID, c.e.Kind, ok, err, c.want)
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		all, err := tx.DepositEntries(ctx, u.AccountID, "")
		if err != nil || len(all) != 5 {
			return fmt.Errorf("account ledger: %d entries %v", len(all), err)
		}
		one, err := tx.DepositEntries(ctx, "", "ord_b")
		if err != nil || len(one) != 2 || one[1].Kind != sls.DepositForfeit || one[1].USD != 2000 || one[1].Actor != "system" {
			return fmt.Errorf("order ledger: %+v %v", one, err)
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		_, err := tx.AddDepositEntry(context.Background(), entry(o2, "bonus", 1))
		return err
	})
	if err == nil {
		t.Fatal("an unknown entry kind was stored")
	}
}

// testConcurrentDeposits settles one order from many transactions at once
// (two nodes, retries): exactly one settlement is stored.
func testConcurrentDeposits(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "ugo")
	o := newOrder(u, "ord_c", t0)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.CreateDeviceOrder(ctx, o); err != nil {
			return err
		}
		_, err := tx.AddDepositEntry(ctx, entry(o, sls.DepositHold, 2000))
		return err
	})
	var wg sync.WaitGroup
	var stored atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := sls.DepositRelease
			if i%2 == 1 {
				kind = sls.DepositForfeit
			}
			err := s.Update(context.Background(), func(tx sls.Tx) error {
				ok, err := tx.AddDepositEntry(context.Background(), entry(o, kind, 2000))
				if ok {
					stored.Add(1)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.DepositEntries(ctx, "", o.ID)
		if err != nil || len(list) != 2 || stored.Load() != 1 {
			return fmt.Errorf("ledger after racing settlements: %d entries, %d reported stored, %v", len(list), stored.Load(), err)
		}
		return nil
	})
}

func testDevicesBySerialAndExpiry(t *testing.T, s sls.Store) {
	a, b := Fixture(t, s, "vera"), Fixture(t, s, "walt")
	devs := []*sls.Device{
		{ID: "dev_s1", UserID: a.ID, Kind: sls.KindDSCPlus, State: sls.StateActive, Serial: "DSC-7", CreatedAt: t0},
		{ID: "dev_s2", UserID: b.ID, Kind: sls.KindDSCPlus, State: sls.StateActive, Serial: "DSC-7", CreatedAt: t0.Add(time.Second)},
		{ID: "dev_e1", UserID: a.ID, Kind: sls.KindOnlineCard, State: sls.StateActive, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		{ID: "dev_e2", UserID: a.ID, Kind: sls.KindTempPasscode, State: sls.StateActive, CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)},
		{ID: "dev_e3", UserID: a.ID, Kind: sls.KindTempPasscode, State: sls.StateRevoked, CreatedAt: t0, ExpiresAt: t0},
		{ID: "dev_e4", UserID: b.ID, Kind: sls.KindOnlineCard, State: sls.StateSuspended, CreatedAt: t0, ExpiresAt: t0},
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, d := range devs {
			if err := tx.CreateDevice(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.DevicesBySerial(ctx, sls.KindDSCPlus, "DSC-7")
		if err != nil || len(list) != 2 || list[0].ID != "dev_s1" || list[1].UserID != b.ID {
			return fmt.Errorf("by serial: %v %v", list, err)
		}
		exp, err := tx.ExpiringDevices(ctx, t0.Add(time.Hour), 10)
		if err != nil || len(exp) != 2 || exp[0].ID != "dev_e4" || exp[1].ID != "dev_e1" {
			return fmt.Errorf("expiring: %v %v", exp, err)
		}
		if exp, _ := tx.ExpiringDevices(ctx, t0.Add(3*time.Hour), 1); len(exp) != 1 {
			return fmt.Errorf("limit: %v", exp)
		}
		return nil
	})
}
