package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("OutboxClaimsOnce", testOutboxClaims)
	Register("OutboxFinish", testOutboxFinish)
	Register("SinkIdempotent", testSinkIdempotent)
	Register("SMSCounts", testSMSCounts)
	Register("PrefsAndVerifications", testPrefsAndVerifications)
	Register("SecureMessages", testSecureMessages)
}

func enqueue(t *testing.T, s sls.Store, n int) {
	for i := 0; i < n; i++ {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			return tx.EnqueueMessage(ctx, &sls.OutboxMessage{ID: fmt.Sprintf("msg_%03d", i), Kind: "new_login", Channel: "email",
				To: "a@example.test", SealedBody: []byte{1}, CreatedAt: t0, State: sls.OutboxPending, NextAttemptAt: t0})
		})
	}
}

// testOutboxClaims: concurrent claimers never get the same message.
func testOutboxClaims(t *testing.T, s sls.Store) {
	enqueue(t, s, 60)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			for {
				var got []*sls.OutboxMessage
				err := s.Update(context.Background(), func(tx sls.Tx) error {
					var err error
					got, err = tx.ClaimMessages(context.Background(), owner, t0.Add(time.Second), t0.Add(time.Minute), 7)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					if prev, dup := seen[m.ID]; dup {
						t.Errorf("%s claimed by %s and %s", m.ID, prev, owner)
					}
					seen[m.ID] = owner
				}
				mu.Unlock()
			}
		}(fmt.Sprintf("w%d", w))
	}
	wg.Wait()
	if len(seen) != 60 {
		t.Fatalf("claimed %d messages, want 60", len(seen))
	}
	// Leased messages are not claimed again until the lease runs out.
	view(t, s, func(ctx context.Context, tx sls.Tx) error { return nil })
	var again []*sls.OutboxMessage
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		var err error
		again, err = tx.ClaimMessages(ctx, "late", t0.Add(30*time.Second), t0.Add(2*time.Minute), 100)
		return err
	})
	if len(again) != 0 {
		t.Fatalf("claimed %d leased messages", len(again))
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		var err error
		again, err = tx.ClaimMessages(ctx, "late", t0.Add(2*time.Minute), t0.Add(3*time.Minute), 100)
		return err
	})
	if len(again) != 60 {
		t.Fatalf("after the leases: %d, want 60", len(again))
	}
}

func testOutboxFinish(t *testing.T, s sls.Store) {
	enqueue(t, s, 1)
	var m *sls.OutboxMessage
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.ClaimMessages(ctx, "me", t0, t0.Add(time.Minute), 1)
		if err == nil && len(got) == 1 {
			m = got[0]
		}
		return err
	})
	if m == nil {
		t.Fatal("nothing claimed")
	}
	m.State, m.Attempts, m.SentAt = sls.OutboxSent, 1, t0.Add(time.Second)
	err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.FinishMessage(context.Background(), "someone-else", m) })
	if !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("finish under another owner's lease: %v", err)
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.FinishMessage(ctx, "me", m) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		sent, err := tx.OutboxMessages(ctx, sls.OutboxSent, 10)
		if err == nil && (len(sent) != 1 || sent[0].Attempts != 1 || !sent[0].SentAt.Equal(m.SentAt)) {
			err = fmt.Errorf("sent: %+v", sent)
		}
		return err
	})
}

func testSinkIdempotent(t *testing.T, s sls.Store) {
	for i, want := range []bool{true, false} {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			ok, err := tx.PutSinkMessage(ctx, &sls.SinkMessage{ID: "msg_1", Channel: "sms", To: "+12015550123", Kind: "login_code_sms",
				Body: "code", DeliveredAt: t0})
			if err == nil && ok != want {
				err = fmt.Errorf("delivery %d stored=%v", i, ok)
			}
			return err
		})
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		all, err := tx.SinkMessages(ctx, "", "", 10)
		byTo, err2 := tx.SinkMessages(ctx, "+12015550123", "login_code_sms", 10)
		none, err3 := tx.SinkMessages(ctx, "+1999", "", 10)
		if err = errors.Join(err, err2, err3); err == nil && (len(all) != 1 || len(byTo) != 1 || len(none) != 0) {
			err = fmt.Errorf("filters: %d %d %d", len(all), len(byTo), len(none))
		}
		return err
	})
}

func testSMSCounts(t *testing.T, s sls.Store) {
	region := map[string]string{"+36": "HU", "+44": "GB"}
	for i, to := range []string{"+3611", "+3611", "+3622", "+4411"} {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			return tx.RecordSMSSend(ctx, sls.SMSSend{UserID: "u1", To: to, Region: region[to[:3]], Channel: "sms", At: t0.Add(time.Duration(i) * time.Minute)})
		})
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, c := range []struct {
			q    sls.SMSCount
			want int
		}{
			{sls.SMSCount{UserID: "u1", Since: t0}, 4},
			{sls.SMSCount{UserID: "u1", Since: t0.Add(2 * time.Minute)}, 2},
			{sls.SMSCount{To: "+3611", Since: t0}, 2},
			{sls.SMSCount{Region: "HU", Since: t0}, 3},
			{sls.SMSCount{Region: "GB", Since: t0.Add(time.Hour)}, 0},
		} {
			n, err := tx.CountSMSSends(ctx, c.q)
			if err != nil || n != c.want {
				return fmt.Errorf("count %+v = %d, %v; want %d", c.q, n, err, c.want)
			}
		}
		return nil
	})
}

func testPrefsAndVerifications(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "pat")
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.UserPrefs(ctx, u.ID); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("prefs before any: %v", err)
		}
		return nil
	})
	for _, p := range []string{`{"primary_lang":"en"}`, `{"primary_lang":"hu"}`} {
		update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutUserPrefs(ctx, u.ID, []byte(p)) })
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.PutPhoneVerification(ctx, &sls.PhoneVerification{UserID: u.ID, Mobile: "+3611", CodeHash: []byte{1}, SentAt: t0, ExpiresAt: t0}); err != nil {
			return err
		}
		return tx.PutPhoneVerification(ctx, &sls.PhoneVerification{UserID: u.ID, Mobile: "+3622", CodeHash: []byte{2}, SentAt: t0, ExpiresAt: t0, Attempts: 2})
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		p, err := tx.UserPrefs(ctx, u.ID)
		if err != nil || string(p) != `{"primary_lang":"hu"}` {
			return fmt.Errorf("prefs: %s %v", p, err)
		}
		v, err := tx.PhoneVerification(ctx, u.ID)
		if err != nil || v.Mobile != "+3622" || v.Attempts != 2 {
			return fmt.Errorf("verification: %+v %v", v, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.DeletePhoneVerification(ctx, u.ID) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.PhoneVerification(ctx, u.ID); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("after delete: %v", err)
		}
		return nil
	})
}

func testSecureMessages(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "quinn")
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		return tx.CreateSecureMessage(ctx, &sls.SecureMessage{ID: "smsg_1", UserID: u.ID, Summary: "hello", SealedBody: []byte{9}, CreatedAt: t0})
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.SecureMessages(ctx, u.ID)
		if err == nil && (len(list) != 1 || list[0].Summary != "hello" || list[0].SealedBody[0] != 9) {
			err = fmt.Errorf("list: %+v", list)
		}
		return err
	})
}
