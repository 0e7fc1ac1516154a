package sms_test

import (
	"context"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// TestSendsLimitedPerAddress: whatever user or number a code is for, one
// address gets the rule's budget of sends; nothing is sent beyond it.
func TestSendsLimitedPerAddress(t *testing.T) {
	s, c, rec, u := setup(t, sms.Rules{})
	other := storetest.Fixture(t, s, "tom")
	clk := clock.NewFake(t0)
	var err error
	c.Limiter, err = ratelimit.New(s, clk, map[string]ratelimit.Rule{ratelimit.SMSAddress: {Rate: 2, Per: 10 * time.Minute, Burst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	sendFrom := func(u *sls.User, ip, to string) error {
		return s.Update(context.Background(), func(tx sls.Tx) error {
			_, err := c.Send(context.Background(), tx, u, ip, to, notify.ChannelSMS, notify.KindLoginCodeSMS, time.Time{}, t0)
			return err
		})
	}
	if err := sendFrom(u, "192.0.2.1", "+36301112222"); err != nil {
		t.Fatal(err)
	}
	if err := sendFrom(other, "192.0.2.1", "+36301113333"); err != nil {
		t.Fatal(err)
	}
	if err := sendFrom(other, "192.0.2.1", "+36301114444"); sls.ErrorCode(err) != sls.CodeRateLimited {
		t.Fatalf("third send from one address: %v", err)
	}
	if err := sendFrom(u, "198.51.100.3", "+36301112222"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if len(rec.sent) != 3 {
		t.Fatalf("%d codes sent, want 3", len(rec.sent))
	}
}
