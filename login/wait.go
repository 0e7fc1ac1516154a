package login

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
)

// Wake tells a waiting caller that something about a user's logins may
// have changed (for example an IB Key push answered on any node). The
// channel is closed once, at the next change; cancel releases it.
type Wake func(userID string) (ch <-chan struct{}, cancel func())

// waitPoll is how often Wait re-reads the login when no wake arrives: a
// safety net under the wake signal, which carries the speed.
const waitPoll = 500 * time.Millisecond

// MaxWait bounds one Wait call; the page simply calls again. It stays
// under the HTTP server's read timeout (30s), which would cancel a longer
// request.
const MaxWait = 25 * time.Second

// Settled reports whether a step already calls for the caller's action
// (for IB Key: the push was approved, denied or expired), so that a wait
// that begins after the change returns at once instead of waiting for the
// next one.
type Settled func(*Step) bool

// Wait returns the login's step as soon as its state or prompt differs
// from what it was when the call began (an IB Key push approved, denied or
// expired; the login completed or failed), or when timeout passes, with
// changed=false. A login that is already finished or expired returns at
// once, and so does one that settled reports as calling for the caller's
// action: a change that happened before the wait began is not waited for
// again. wake and settled may be nil (polling only).
func (s *Service) Wait(ctx context.Context, loginID string, timeout time.Duration, wake Wake, settled Settled) (step *Step, changed bool, err error) {
	if timeout <= 0 || timeout > MaxWait {
		timeout = MaxWait
	}
	var userID string
	err = s.store.Read(ctx, func(tx sls.Tx) error {
		l, err := tx.Login(ctx, sls.TokenHash(loginID))
		if err == nil {
			userID = l.UserID
		}
		return err
	})
	if errors.Is(err, sls.ErrNotFound) || loginID == "" || len(loginID) > 128 {
		return nil, false, sls.Errorf(sls.CodeNotFound, "Unknown login. Please start over.")
	}
	if err != nil {
		return nil, false, err
	}
	subscribe := func() (<-chan struct{}, func()) {
		if wake == nil {
			return nil, func() {}
		}
		return wake(userID)
	}
	ch, cancel := subscribe() // before the first read, so no change slips between
	defer func() { cancel() }()
	first, err := s.Status(ctx, loginID)
	if err != nil {
		return nil, true, err
	}
	if first.State == sls.LoginCompleted || first.State == sls.LoginFailed || (settled != nil && settled(first)) {
		return first, false, nil
	}
	seen := fingerprint(first)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-timer.C:
			return first, false, nil
		case <-ch:
			cancel()
			ch, cancel = subscribe()
		case <-tick.C:
		}
		cur, err := s.Status(ctx, loginID)
		if err != nil {
			return nil, true, err // expired or gone: a change the page must see
		}
		if !bytes.Equal(fingerprint(cur), seen) {
			return cur, true, nil
		}
	}
}

func fingerprint(st *Step) []byte {
	b, _ := json.Marshal(struct {
		State  sls.LoginState
		Device string
		Prompt *sls.Prompt
	}{st.State, st.DeviceID, st.Prompt})
	return b
}
