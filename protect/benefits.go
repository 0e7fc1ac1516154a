package protect

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// Benefit names for BenefitCheck.
const (
	BenefitBankingChange = "banking_change" // change banking instructions without the Security Team
	BenefitEmailChange   = "email_change"   // change the email address without the Security Team
)

// BenefitAnswer is the answer to a participation-benefit check (SPEC §4:
// "other SLS participation benefits to enforce as policy").
type BenefitAnswer struct {
	Benefit string `json:"benefit"`
	Allowed bool   `json:"allowed"`
	InSLS   bool   `json:"in_sls"`
	// Condition and Message explain a refusal.
	Condition string `json:"condition,omitempty"`
	Message   string `json:"message,omitempty"`
	// CoolDownUntil is when a security change's cool-down ends (refusals
	// for that reason).
	CoolDownUntil time.Time `json:"cool_down_until,omitzero"`
}

func answerOf(benefit string, inSLS bool, err error) *BenefitAnswer {
	a := &BenefitAnswer{Benefit: benefit, Allowed: err == nil, InSLS: inSLS}
	var e *sls.Error
	if errors.As(err, &e) {
		a.Message = e.Message
		a.Condition, _ = e.Detail[policy.DetailCondition].(string)
	}
	return a
}

// CheckBenefit answers whether the user may change banking instructions or
// the email address without the Security Team: an SLS participant may.
func (s *Service) CheckBenefit(ctx context.Context, u *sls.User, benefit string) (*BenefitAnswer, error) {
	switch benefit {
	case BenefitBankingChange, BenefitEmailChange:
	default:
		return nil, sls.Errorf(sls.CodeNotFound, "Unknown benefit %q (%s, %s).", benefit, BenefitBankingChange, BenefitEmailChange)
	}
	a := answerOf(benefit, inSLS(u), policy.CanChangeBankingOrEmail(inSLS(u)))
	if benefit == BenefitBankingChange && a.Allowed {
		// A banking-instruction change waits out a security change's
		// cool-down, or Client Services (package takeover).
		now := s.now()
		var cd *sls.CoolDown
		if err := s.Store.View(ctx, func(tx sls.Tx) error {
			var err error
			cd, err = s.coolDown(ctx, tx, u, now)
			return err
		}); err != nil {
			return nil, err
		}
		if cd != nil {
			a = answerOf(benefit, a.InSLS, bankingWaits(cd))
			a.CoolDownUntil = cd.Until
		}
	}
	return a, nil
}

// ACHAnswer is the answer to "may this user fund USD X by ACH/EFT".
type ACHAnswer struct {
	BenefitAnswer
	Currency  string `json:"currency,omitempty"`
	Amount    string `json:"amount,omitempty"`
	AmountUSD int64  `json:"amount_usd_cents"`
	// FundedSoFar is what ACH/EFT funding already brought in (US cents).
	FundedSoFar int64 `json:"funded_so_far_cents"`
	// InitialLimit and Remaining are null for SLS participants (no cap).
	InitialLimit *int64             `json:"initial_limit_cents"`
	Remaining    *int64             `json:"remaining_cents"`
	Funding      *sls.MoneyMovement `json:"funding,omitempty"`
	Replayed     bool               `json:"replayed,omitempty"`
}

func (s *Service) achAnswer(ctx context.Context, tx sls.Tx, u *sls.User, m policy.Money) (*ACHAnswer, error) {
	usd, _, err := s.ToUSD(ctx, tx, m, true)
	if err != nil {
		return nil, err
	}
	funded, err := tx.MoneyMovementTotal(ctx, u.AccountID, sls.MoveACHFunding)
	if err != nil {
		return nil, err
	}
	in := inSLS(u)
	a := &ACHAnswer{BenefitAnswer: *answerOf("ach_funding", in, policy.ACHFundingAllowed(in, funded, usd)),
		Currency: m.Currency, Amount: FormatAmount(m.Currency, m.Minor), AmountUSD: usd, FundedSoFar: funded}
	if !in {
		limit := policy.InitialACHFunding
		left := max(limit-funded, 0)
		a.InitialLimit, a.Remaining = &limit, &left
	}
	return a, nil
}

// CheckACH answers whether the user may fund the amount by ACH/EFT
// (SPEC §4: beyond an initial USD 20,000 only SLS participants may).
func (s *Service) CheckACH(ctx context.Context, u *sls.User, req MoneyRequest) (*ACHAnswer, error) {
	m, err := ParseAmount(req.Currency, req.Amount)
	if err != nil {
		return nil, err
	}
	var out *ACHAnswer
	err = s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = s.achAnswer(ctx, tx, u, m)
		return err
	})
	return out, err
}

// RecordACH checks and books an ACH/EFT funding under the account's lock;
// a refusal is audited and returned as not_eligible/ach_initial_limit.
func (s *Service) RecordACH(ctx context.Context, sess *sls.Session, u *sls.User, req MoneyRequest) (*ACHAnswer, error) {
	if !validRequestID(req.RequestID) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "request_id is required: 1 to 64 printable characters that identify this funding.").
			WithDetail("field", "request_id")
	}
	m, err := ParseAmount(req.Currency, req.Amount)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *ACHAnswer
	var refused error
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		out, refused = nil, nil
		if _, err := tx.AccountForUpdate(ctx, u.AccountID); err != nil {
			return err
		}
		prev, err := tx.MoneyMovementByRequest(ctx, u.AccountID, sls.MoveACHFunding, req.RequestID)
		if err == nil {
			if prev.Currency != m.Currency || prev.AmountMinor != m.Minor {
				return sls.Errorf(sls.CodeConflict, "request_id %q was used for a different funding.", req.RequestID)
			}
			if out, err = s.achAnswer(ctx, tx, u, m); err != nil {
				return err
			}
			out.Allowed, out.Condition, out.Message, out.Funding, out.Replayed = true, "", "", prev, true
			return nil
		} else if !errors.Is(err, sls.ErrNotFound) {
			return err
		}
		a, err := s.achAnswer(ctx, tx, u, m)
		if err != nil {
			return err
		}
		out = a
		detail := map[string]any{"request_id": req.RequestID, "currency": m.Currency, "amount_minor": m.Minor, "usd_cents": a.AmountUSD,
			"funded_so_far_cents": a.FundedSoFar, "in_sls": a.InSLS, "session_id": sess.ID}
		if !a.Allowed {
			refused = policy.ACHFundingAllowed(a.InSLS, a.FundedSoFar, a.AmountUSD)
			return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventACHRefused, u.ID, "", detail)
		}
		mv := &sls.MoneyMovement{ID: sls.NewID("ach"), Kind: sls.MoveACHFunding, AccountID: u.AccountID, UserID: u.ID,
			RequestID: req.RequestID, Currency: m.Currency, AmountMinor: m.Minor, USD: a.AmountUSD, DeviceKind: sess.DeviceKind,
			SessionID: sess.ID, At: now}
		ok, err := tx.AddMoneyMovement(ctx, mv)
		if err != nil {
			return err
		}
		if !ok {
			return sls.Errorf(sls.CodeConflict, "This request id is already being booked.")
		}
		a.Funding = mv
		detail["funding_id"] = mv.ID
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventACHRecorded, u.ID, "", detail)
	})
	if err != nil {
		return nil, err
	}
	return out, refused
}
