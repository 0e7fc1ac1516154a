package verify

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
)

// AnswerInSession answers a challenge asked inside a live session and
// kept in step_ups (a withdrawal confirmation, a session step-up): the
// one whose bearer handle is id, of purpose, bound to sess. A handle that
// is unknown, of another session or user, or of another purpose gets
// unknown (the caller's not_found, so that a handle proves nothing). The
// rows are locked in the order of a login answer (user, then challenge).
// Refusals that count nothing come back as the error, as from Answer; an
// answer that was checked comes back as the Result, with the step-up
// stored (its attempts; on success VerifiedAt = now), along with the
// step-up and its device for the caller's success effects.
func (v *Verifier) AnswerInSession(ctx context.Context, tx sls.Tx, sess *sls.Session, purpose sls.Purpose, id, answer string,
	unknown error, now time.Time) (*sls.StepUp, *sls.Device, Result, error) {
	if sess == nil {
		return nil, nil, Result{}, sls.ErrUnauthenticated
	}
	if id == "" || len(id) > 128 {
		return nil, nil, Result{}, unknown
	}
	hash := sls.TokenHash(id)
	peek, err := tx.StepUp(ctx, hash)
	if errors.Is(err, sls.ErrNotFound) || (err == nil && (peek.Bound.SessionID != sess.ID || peek.UserID != sess.UserID ||
		peek.Purpose != purpose)) {
		return nil, nil, Result{}, unknown
	}
	if err != nil {
		return nil, nil, Result{}, err
	}
	u, err := tx.UserForUpdate(ctx, peek.UserID)
	if err != nil {
		return nil, nil, Result{}, err
	}
	su, err := tx.StepUpForUpdate(ctx, hash)
	if err != nil {
		return nil, nil, Result{}, err
	}
	if !su.VerifiedAt.IsZero() {
		return nil, nil, Result{}, sls.Errorf(sls.CodeConflict, "This was already answered. Please start over for a new confirmation.")
	}
	d, err := tx.Device(ctx, su.DeviceID)
	if err != nil {
		return nil, nil, Result{}, err
	}
	res, err := v.Answer(ctx, tx, u, d, &su.Challenge, answer, now)
	if err != nil {
		return nil, nil, Result{}, err
	}
	if res.OK() {
		su.VerifiedAt = now
	}
	return su, d, res, tx.PutStepUp(ctx, su)
}
