package factor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// script is a rigged random source: each read fills p with the next byte
// of the script (the last one repeats), so each draw of Digits is known.
type script struct {
	bytes []byte
	reads int
}

func (s *script) Read(p []byte) (int, error) {
	b := s.bytes[min(s.reads, len(s.bytes)-1)]
	s.reads++
	for i := range p {
		p[i] = b
	}
	return len(p), nil
}

func drawOf(t *testing.T, b byte) string {
	t.Helper()
	ch, err := factor.Digits(&script{bytes: []byte{b}}, 6)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// A challenge whose expected response the device already gave is drawn
// again: its right answer would be refused as a replay and count toward
// the lock-out. A source that only repeats used challenges fails closed;
// an expired record no longer stands in the way.
func TestFreshChallenge(t *testing.T) {
	store := storetest.MustOpenSQLite(t)
	ctx := context.Background()
	t0 := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	expected := func(ch string) (string, error) { return "resp-" + ch, nil }
	a, b, c := drawOf(t, 0x42), drawOf(t, 0x17), drawOf(t, 0x23)
	if a == b || b == c || a == c {
		t.Fatal("the script needs three different draws")
	}
	for _, ch := range []string{a, b} {
		err := store.Update(ctx, func(tx sls.Tx) error {
			return tx.MarkResponseUsed(ctx, "dev_1", factor.ResponseDigest(ch, "resp-"+ch), t0, t0.Add(400*24*time.Hour))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	draw := func(deviceID string, now time.Time, bytes ...byte) (string, error) {
		var ch string
		err := store.View(ctx, func(tx sls.Tx) error {
			var err error
			ch, err = factor.FreshChallenge(ctx, tx, &script{bytes: bytes}, 6, deviceID, now, expected)
			return err
		})
		return ch, err
	}
	cases := []struct {
		name     string
		deviceID string
		now      time.Time
		bytes    []byte
		want     string
	}{
		{"unused at once", "dev_1", t0, []byte{0x23}, c},
		{"one used, drawn again", "dev_1", t0, []byte{0x42, 0x23}, c},
		{"two used, drawn twice more", "dev_1", t0, []byte{0x42, 0x17, 0x23}, c},
		{"used by another device only", "dev_2", t0, []byte{0x42}, a},
		{"record expired", "dev_1", t0.Add(401 * 24 * time.Hour), []byte{0x42}, a},
	}
	for _, tc := range cases {
		got, err := draw(tc.deviceID, tc.now, tc.bytes...)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := draw("dev_1", t0, 0x42); !errors.Is(err, sls.ErrDeviceUnavailable) {
		t.Fatalf("a source that only repeats a used challenge: %v, want device_unavailable", err)
	}
}
