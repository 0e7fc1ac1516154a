package protect

import (
	"context"
	"errors"
	"sort"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// ListRates lists the stored exchange rates.
func (s *Service) ListRates(ctx context.Context) ([]sls.ExchangeRate, error) {
	var out []sls.ExchangeRate
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.ExchangeRates(ctx)
		return err
	})
	if out == nil {
		out = []sls.ExchangeRate{}
	}
	return out, err
}

// SetRates stores the given rates (currency → USD per unit, exact
// decimal), keeping others. Every code and rate is checked first; one bad
// entry changes nothing.
func (s *Service) SetRates(ctx context.Context, actor string, rates map[string]string, force bool, reason string) ([]sls.ExchangeRate, error) {
	if len(rates) == 0 || len(rates) > 200 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Give 1 to 200 rates, such as {\"EUR\": \"1.0834\"}.")
	}
	reason = strings.TrimSpace(reason)
	if force && (len(reason) < 10 || len(reason) > 500) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A forced rate needs a reason of 10 to 500 characters (it is audited).")
	}
	parsed, err := policy.ParseRates(rates)
	if err != nil {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "%s", strings.TrimPrefix(err.Error(), "policy: ")).Wrap(err)
	}
	codes := make([]string, 0, len(parsed))
	for c := range parsed {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	band := s.cfg().RateBand
	now := s.now()
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		current, err := tx.ExchangeRates(ctx)
		if err != nil {
			return err
		}
		old := map[string]policy.Rate{}
		for _, r := range current {
			if v, err := policy.ParseRate(r.Rate); err == nil {
				old[r.Currency] = v
			}
		}
		for _, c := range codes {
			outside := band.Check(c, old[c], parsed[c])
			if outside != nil && !force {
				return sls.Errorf(sls.CodeInvalidArgument, "%s", strings.TrimPrefix(outside.Error(), "policy: ")).WithDetail("currency", c)
			}
			r := sls.ExchangeRate{Currency: c, Rate: parsed[c].String(), UpdatedAt: now, UpdatedBy: actor}
			if err := tx.PutExchangeRate(ctx, r); err != nil {
				return err
			}
			detail := map[string]any{"currency": c, "rate": r.Rate}
			if outside != nil {
				detail["forced"], detail["reason"], detail["outside_band"] = true, reason, outside.Error()
			}
			if err := sls.Audit(ctx, tx, now, actor, EventRateChanged, "", "", detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.ListRates(ctx)
}

// DeleteRate removes a currency's rate: amounts in it are refused again.
func (s *Service) DeleteRate(ctx context.Context, actor, currency string) error {
	c := strings.ToUpper(strings.TrimSpace(currency))
	now := s.now()
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.DeleteExchangeRate(ctx, c); errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No rate for %q.", currency)
		} else if err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventRateChanged, "", "", map[string]any{"currency": c, "rate": nil})
	})
}

// ListHolidays lists the stored holidays.
func (s *Service) ListHolidays(ctx context.Context) ([]sls.Holiday, error) {
	var out []sls.Holiday
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.Holidays(ctx)
		return err
	})
	if out == nil {
		out = []sls.Holiday{}
	}
	return out, err
}

// AddHoliday makes date (YYYY-MM-DD) a non-business day for the
// five-business-day withdrawal window and delivery estimates.
func (s *Service) AddHoliday(ctx context.Context, actor, date, name string) (*sls.Holiday, error) {
	d, err := policy.ParseDate(strings.TrimSpace(date))
	if err != nil {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The date must be a real date written YYYY-MM-DD.").Wrap(err)
	}
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The holiday's name is too long (100 characters at most).")
	}
	now := s.now()
	h := sls.Holiday{Date: d.String(), Name: name, CreatedAt: now}
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.PutHoliday(ctx, h); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventHolidayChanged, "", "", map[string]any{"date": h.Date, "name": name, "added": true})
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// DeleteHoliday makes date a business day again (when it is a weekday).
func (s *Service) DeleteHoliday(ctx context.Context, actor, date string) error {
	now := s.now()
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.DeleteHoliday(ctx, date); errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No holiday on %q.", date)
		} else if err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventHolidayChanged, "", "", map[string]any{"date": date, "added": false})
	})
}
