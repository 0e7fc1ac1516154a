package ibkey

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	proto "github.com/secure-login-system/sls/ibkey"
)

// replayMemory is how long an accepted challenge/response pair is
// remembered (as for DSC+: far longer than any use of a recorded pair).
const replayMemory = 400 * 24 * time.Hour

// Factor implements sls.Factor for IB Key devices.
type Factor struct{ s *Service }

var _ sls.Factor = (*Factor)(nil)

// Factor returns the login factor.
func (s *Service) Factor() *Factor { return &Factor{s: s} }

// Kind implements sls.Factor.
func (*Factor) Kind() sls.DeviceKind { return sls.KindIBKey }

// Challenge implements sls.Factor. It always prepares challenge/response
// (for a phone without notifications or internet, and for a trading
// device answered from the authentication device, SPEC §2.3) and, unless
// the anti-fatigue rule has switched pushing off, a push to every
// instance holding the user, with the number the user must match. An
// earlier push still pending for the user is superseded: at most one is
// outstanding.
func (f *Factor) Challenge(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, now time.Time) error {
	s := f.s
	key, err := s.offlineKey(d)
	if err != nil {
		return err
	}
	// Never a challenge whose response was already accepted: its right
	// answer would be refused as a replay (factor.FreshChallenge). A
	// withdrawal confirmation's challenge signs its amount and payee.
	var challenge string
	var sign *factor.SignParts
	if factor.Signs(c) {
		parts, err := factor.SignFields(c.Bound)
		if err != nil {
			return sls.Errorf(sls.CodeInvalidArgument, "%s", err)
		}
		parts.Code, err = factor.FreshChallenge(ctx, tx, s.d.Rand, factor.SignCodeLen, d.ID, now, func(code string) (string, error) {
			return proto.RespondSign(key, code, parts.PayeeDigits, parts.Amount)
		})
		if err != nil {
			return err
		}
		sign, challenge = &parts, parts.Question()
	} else if challenge, err = factor.FreshChallenge(ctx, tx, s.d.Rand, proto.ChallengeDigits, d.ID, now, func(ch string) (string, error) {
		return proto.Respond(key, ch)
	}); err != nil {
		return err
	}
	pending, err := tx.IBKeyPendingPushes(ctx, []string{u.ID})
	if err != nil {
		return err
	}
	for _, p := range pending {
		state := sls.PushSuperseded
		if !now.Before(p.ExpiresAt) {
			state = sls.PushExpired
		}
		if err := s.closePush(ctx, tx, p, state, d, now); err != nil {
			return err
		}
		if p.LoginHash != c.IDHash {
			if err := setLoginPush(ctx, tx, p, false); err != nil {
				return err
			}
		}
	}
	prompt := &sls.Prompt{Kind: sls.KindIBKey, Challenge: challenge}
	st := readDevState(d)
	if st.Streak >= s.cfg.MaxUnanswered {
		prompt.Message = "Too many SLS Key notifications were not approved, so none was sent. In the SLS Mobile app, tap Authenticate, enter the challenge code and your PIN, and type the response string here."
		prompt.Extra, _ = json.Marshal(promptExtra{Push: "off", Reason: "too_many_unapproved", Sign: sign})
		c.Prompt, c.FactorState = prompt, nil
		return nil
	}
	number, err := factor.Digits(s.d.Rand, s.cfg.MatchDigits)
	if err != nil {
		return err
	}
	p := &sls.IBKeyPush{ID: sls.NewID("psh"), UserID: u.ID, DeviceID: d.ID, LoginHash: c.IDHash, State: sls.PushPending,
		Number: number, Platform: c.Platform, ClientIP: c.ClientIP, UserAgent: c.UserAgent,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.PushTTL.D()), UpdatedAt: now}
	if factor.Signs(c) { // the app shows the amount and payee, and signs them
		p.Bound = sls.Binding{Currency: c.Bound.Currency, AmountMinor: c.Bound.AmountMinor, Payee: c.Bound.Payee}
	}
	if err := tx.CreateIBKeyPush(ctx, p); err != nil {
		return err
	}
	prompt.MatchNumber = number
	prompt.Message = "A notification was sent to your phone. Open it, enter the number shown here and unlock to approve. No notification? In the SLS Mobile app, tap Authenticate, enter the challenge code and your PIN, and type the response string here."
	prompt.Extra, _ = json.Marshal(promptExtra{PushID: p.ID, Push: sls.PushPending, PushExpiresAt: p.ExpiresAt, Sign: sign})
	c.Prompt = prompt
	c.FactorState, _ = json.Marshal(loginState{PushID: p.ID})
	return nil
}

// Verify implements sls.Factor. An empty answer completes the login when
// its push was approved (the login page calls it once its wait returns
// "approved"); a push not approved yet is not an answer and counts
// nothing. Any other answer is a challenge/response string.
func (f *Factor) Verify(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, answer string, now time.Time) (sls.Verified, error) {
	s := f.s
	if c.Prompt == nil || c.Prompt.Kind != sls.KindIBKey {
		return sls.Verified{}, sls.ErrDeviceUnavailable
	}
	st := readLoginState(c)
	answer = strings.Join(strings.Fields(answer), "")
	if answer == "" {
		if st.PushID == "" {
			return sls.Verified{}, sls.Errorf(sls.CodeConflict, "No notification was sent for this login; type the response string.")
		}
		p, err := tx.IBKeyPushForUpdate(ctx, st.PushID)
		if err != nil {
			return sls.Verified{}, err
		}
		if p.LoginHash != c.IDHash || p.DeviceID != d.ID {
			return sls.Verified{}, sls.ErrDeviceUnavailable
		}
		if p.State != sls.PushApproved {
			return sls.Verified{}, sls.Errorf(sls.CodeConflict, "The notification has not been approved (it is %s).", p.State).
				WithDetail("push", p.State)
		}
		p.State, p.UpdatedAt = sls.PushUsed, now
		if err := tx.PutIBKeyPush(ctx, p); err != nil {
			return sls.Verified{}, err
		}
		writeDevState(d, devState{})
		return sls.Verified{Biometric: p.Biometric}, nil
	}
	key, err := s.offlineKey(d)
	if err != nil {
		return sls.Verified{}, err
	}
	if !f.checkResponse(key, c, answer) {
		return sls.Verified{}, sls.ErrBadResponse // a wrong PIN gives a wrong key: counted like any wrong answer
	}
	err = tx.MarkResponseUsed(ctx, d.ID, factor.ResponseDigest(c.Prompt.Challenge, answer), now, now.Add(replayMemory))
	if errors.Is(err, sls.ErrConflict) {
		return sls.Verified{}, sls.ErrBadResponse
	}
	if err != nil {
		return sls.Verified{}, err
	}
	if st.PushID != "" { // the notification is no longer needed
		p, err := tx.IBKeyPushForUpdate(ctx, st.PushID)
		if err == nil && p.State == sls.PushPending {
			if err := s.closePush(ctx, tx, p, sls.PushCancelled, d, now); err != nil {
				return sls.Verified{}, err
			}
		} else if err != nil && !errors.Is(err, sls.ErrNotFound) {
			return sls.Verified{}, err
		}
	}
	writeDevState(d, devState{})
	return sls.Verified{}, nil
}

// checkResponse checks a challenge/response answer; a withdrawal
// confirmation's question is rebuilt from what is bound, never taken from
// the prompt alone.
func (f *Factor) checkResponse(key []byte, c *sls.Challenge, answer string) bool {
	if !factor.Signs(c) {
		return proto.CheckResponse(key, c.Prompt.Challenge, answer)
	}
	var ex promptExtra
	if json.Unmarshal(c.Prompt.Extra, &ex) != nil || ex.Sign == nil {
		return false
	}
	q, ok := factor.BoundQuestion(c, ex.Sign.Code)
	return ok && proto.CheckSignResponse(key, q, answer)
}
