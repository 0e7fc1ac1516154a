package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

// --- money movements ---

const moveCols = `id, kind, account_id, user_id, request_id, currency, amount_minor, usd_cents, device_kind, session_id, at,
	reversed_at, reversed_by, reverse_reason`

func scanMove(s scanner) (*sls.MoneyMovement, error) {
	var m sls.MoneyMovement
	var at int64
	err := s.Scan(&m.ID, &m.Kind, &m.AccountID, &m.UserID, &m.RequestID, &m.Currency, &m.AmountMinor, &m.USD, &m.DeviceKind,
		&m.SessionID, &at, nullTime{&m.ReversedAt}, &m.ReversedBy, &m.ReverseReason)
	if err != nil {
		return nil, err
	}
	m.At = fromMicro(at)
	return &m, nil
}

func (t *tx) AddMoneyMovement(ctx context.Context, m *sls.MoneyMovement) (bool, error) {
	// ON CONFLICT DO NOTHING: a repeated request id is an expected outcome
	// inside a transaction that goes on (on PostgreSQL a failed INSERT
	// would abort it).
	res, err := t.exec(ctx, `INSERT INTO money_movements (`+moveCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, kind, request_id) DO NOTHING`,
		m.ID, m.Kind, m.AccountID, m.UserID, m.RequestID, m.Currency, m.AmountMinor, m.USD, m.DeviceKind, m.SessionID,
		m.At.UnixMicro(), ts(m.ReversedAt), m.ReversedBy, m.ReverseReason)
	if err != nil {
		return false, wrap("add money movement", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("add money movement", err)
}

func (t *tx) MoneyMovement(ctx context.Context, id string) (*sls.MoneyMovement, error) {
	m, err := scanMove(t.queryRow(ctx, `SELECT `+moveCols+` FROM money_movements WHERE id = ?`, id))
	return m, wrap("money movement", err)
}

func (t *tx) MoneyMovementByRequest(ctx context.Context, accountID, kind, requestID string) (*sls.MoneyMovement, error) {
	m, err := scanMove(t.queryRow(ctx, `SELECT `+moveCols+` FROM money_movements WHERE account_id = ? AND kind = ? AND request_id = ?`,
		accountID, kind, requestID))
	return m, wrap("money movement", err)
}

func (t *tx) MoneyMovements(ctx context.Context, accountID, kind string, since time.Time, withReversed bool) ([]*sls.MoneyMovement, error) {
	q := `SELECT ` + moveCols + ` FROM money_movements WHERE account_id = ? AND kind = ? AND at >= ?`
	if !withReversed {
		q += ` AND reversed_at IS NULL`
	}
	rows, err := t.query(ctx, q+` ORDER BY at, id`, accountID, kind, since.UnixMicro())
	if err != nil {
		return nil, wrap("money movements", err)
	}
	return collect(rows, scanMove)
}

func (t *tx) MoneyMovementTotal(ctx context.Context, accountID, kind string) (int64, error) {
	var total int64
	err := t.queryRow(ctx, `SELECT COALESCE(SUM(usd_cents), 0) FROM money_movements WHERE account_id = ? AND kind = ? AND reversed_at IS NULL`,
		accountID, kind).Scan(&total)
	return total, wrap("money movement total", err)
}

func (t *tx) ReverseMoneyMovement(ctx context.Context, id string, at time.Time, by, reason string) error {
	res, err := t.exec(ctx, `UPDATE money_movements SET reversed_at = ?, reversed_by = ?, reverse_reason = ? WHERE id = ? AND reversed_at IS NULL`,
		at.UnixMicro(), by, reason, id)
	if err := mustAffect("reverse money movement", res, err); err != nil {
		if errors.Is(err, sls.ErrNotFound) {
			if _, gerr := t.MoneyMovement(ctx, id); gerr == nil {
				return sls.ErrConflict
			}
		}
		return err
	}
	return nil
}

// --- step-up confirmations ---

const stepUpCols = `id_hash, user_id, session_id, device_id, device_kind, currency, amount_minor, prompt, factor_state, attempts,
	created_at, deadline, verified_at, used_at, purpose, platform, client_ip, user_agent, order_id, payee`

func scanStepUp(s scanner) (*sls.StepUp, error) {
	var u sls.StepUp
	var prompt string
	var created, deadline int64
	err := s.Scan(&u.IDHash, &u.UserID, &u.Bound.SessionID, &u.DeviceID, &u.DeviceKind, &u.Bound.Currency, &u.Bound.AmountMinor, &prompt,
		&u.FactorState, &u.Attempts, &created, &deadline, nullTime{&u.VerifiedAt}, nullTime{&u.UsedAt},
		&u.Purpose, &u.Platform, &u.ClientIP, &u.UserAgent, &u.Bound.OrderID, &u.Bound.Payee)
	if err != nil {
		return nil, err
	}
	if prompt != "" {
		u.Prompt = new(sls.Prompt)
		if err := json.Unmarshal([]byte(prompt), u.Prompt); err != nil {
			return nil, fmt.Errorf("step-up prompt: %w", err)
		}
	}
	u.CreatedAt, u.Deadline = fromMicro(created), fromMicro(deadline)
	return &u, nil
}

func promptText(p *sls.Prompt) (string, error) {
	if p == nil {
		return "", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

func (t *tx) CreateStepUp(ctx context.Context, s *sls.StepUp) error {
	p, err := promptText(s.Prompt)
	if err != nil {
		return wrap("create step-up", err)
	}
	_, err = t.exec(ctx, `INSERT INTO step_ups (`+stepUpCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.IDHash, s.UserID, s.Bound.SessionID, s.DeviceID, s.DeviceKind, s.Bound.Currency, s.Bound.AmountMinor, p, s.FactorState, s.Attempts,
		s.CreatedAt.UnixMicro(), s.Deadline.UnixMicro(), ts(s.VerifiedAt), ts(s.UsedAt),
		s.Purpose, s.Platform, s.ClientIP, s.UserAgent, s.Bound.OrderID, s.Bound.Payee)
	return wrap("create step-up", err)
}

func (t *tx) StepUp(ctx context.Context, idHash string) (*sls.StepUp, error) {
	s, err := scanStepUp(t.queryRow(ctx, `SELECT `+stepUpCols+` FROM step_ups WHERE id_hash = ?`, idHash))
	return s, wrap("step-up", err)
}

func (t *tx) StepUpForUpdate(ctx context.Context, idHash string) (*sls.StepUp, error) {
	s, err := scanStepUp(t.queryRow(ctx, `SELECT `+stepUpCols+` FROM step_ups WHERE id_hash = ?`+t.forUpdate(), idHash))
	return s, wrap("step-up", err)
}

func (t *tx) PutStepUp(ctx context.Context, s *sls.StepUp) error {
	p, err := promptText(s.Prompt)
	if err != nil {
		return wrap("put step-up", err)
	}
	res, err := t.exec(ctx, `UPDATE step_ups SET prompt = ?, factor_state = ?, attempts = ?, deadline = ?, verified_at = ?, used_at = ?
		WHERE id_hash = ?`, p, s.FactorState, s.Attempts, s.Deadline.UnixMicro(), ts(s.VerifiedAt), ts(s.UsedAt), s.IDHash)
	return mustAffect("put step-up", res, err)
}

func (t *tx) PendingStepUps(ctx context.Context, sessionID string, purpose sls.Purpose, now time.Time) ([]*sls.StepUp, error) {
	rows, err := t.query(ctx, `SELECT `+stepUpCols+` FROM step_ups
		WHERE session_id = ? AND purpose = ? AND verified_at IS NULL AND deadline > ? ORDER BY created_at, id_hash`,
		sessionID, purpose, now.UnixMicro())
	if err != nil {
		return nil, wrap("pending step-ups", err)
	}
	defer rows.Close()
	var out []*sls.StepUp
	for rows.Next() {
		su, err := scanStepUp(rows)
		if err != nil {
			return nil, wrap("pending step-ups", err)
		}
		out = append(out, su)
	}
	return out, wrap("pending step-ups", rows.Err())
}

func (t *tx) SupersedeStepUps(ctx context.Context, sessionID string, purpose sls.Purpose, now time.Time) (int64, error) {
	res, err := t.exec(ctx, `UPDATE step_ups SET deadline = ?, factor_state = NULL
		WHERE session_id = ? AND purpose = ? AND verified_at IS NULL AND deadline > ?`,
		now.UnixMicro(), sessionID, purpose, now.UnixMicro())
	if err != nil {
		return 0, wrap("supersede step-ups", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("supersede step-ups", err)
}

func (t *tx) DeleteStepUpsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM step_ups WHERE deadline < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("delete step-ups", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete step-ups", err)
}

// --- protection settings ---

func (t *tx) ProtectionSettings(ctx context.Context, userID string) (*sls.ProtectionSettings, error) {
	p := &sls.ProtectionSettings{UserID: userID, IPRestrictions: []string{}}
	var ips string
	var updated int64
	err := t.queryRow(ctx, `SELECT ip_restrictions, penny_stock, shipping_address, updated_at FROM protection_settings WHERE user_id = ?`, userID).
		Scan(&ips, &p.PennyStock, &p.SealedShippingAddress, &updated)
	if err == sql.ErrNoRows {
		return p, nil
	}
	if err != nil {
		return nil, wrap("protection settings", err)
	}
	if ips != "" {
		p.IPRestrictions = strings.Split(ips, "\n")
	}
	p.UpdatedAt = fromMicro(updated)
	return p, nil
}

func (t *tx) PutProtectionSettings(ctx context.Context, p *sls.ProtectionSettings) error {
	for _, ip := range p.IPRestrictions {
		if ip == "" || strings.ContainsAny(ip, "\n\r") {
			return fmt.Errorf("sqlstore: put protection settings: malformed IP restriction %q", ip)
		}
	}
	ips := strings.Join(p.IPRestrictions, "\n")
	_, err := t.exec(ctx, `INSERT INTO protection_settings (user_id, ip_restrictions, penny_stock, shipping_address, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET ip_restrictions = excluded.ip_restrictions, penny_stock = excluded.penny_stock,
			shipping_address = excluded.shipping_address, updated_at = excluded.updated_at`,
		p.UserID, ips, p.PennyStock, p.SealedShippingAddress, p.UpdatedAt.UnixMicro())
	return wrap("put protection settings", err)
}

// --- rates and holidays ---

func (t *tx) ExchangeRates(ctx context.Context) ([]sls.ExchangeRate, error) {
	rows, err := t.query(ctx, `SELECT currency, rate, updated_at, updated_by FROM exchange_rates ORDER BY currency`)
	if err != nil {
		return nil, wrap("exchange rates", err)
	}
	return collect(rows, func(s scanner) (sls.ExchangeRate, error) {
		var r sls.ExchangeRate
		var at int64
		err := s.Scan(&r.Currency, &r.Rate, &at, &r.UpdatedBy)
		r.UpdatedAt = fromMicro(at)
		return r, err
	})
}

func (t *tx) PutExchangeRate(ctx context.Context, r sls.ExchangeRate) error {
	_, err := t.exec(ctx, `INSERT INTO exchange_rates (currency, rate, updated_at, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (currency) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		r.Currency, r.Rate, r.UpdatedAt.UnixMicro(), r.UpdatedBy)
	return wrap("put exchange rate", err)
}

func (t *tx) DeleteExchangeRate(ctx context.Context, currency string) error {
	res, err := t.exec(ctx, `DELETE FROM exchange_rates WHERE currency = ?`, currency)
	return mustAffect("delete exchange rate", res, err)
}

func (t *tx) Holidays(ctx context.Context) ([]sls.Holiday, error) {
	rows, err := t.query(ctx, `SELECT day, name, created_at FROM holidays ORDER BY day`)
	if err != nil {
		return nil, wrap("holidays", err)
	}
	return collect(rows, func(s scanner) (sls.Holiday, error) {
		var h sls.Holiday
		var at int64
		err := s.Scan(&h.Date, &h.Name, &at)
		h.CreatedAt = fromMicro(at)
		return h, err
	})
}

func (t *tx) PutHoliday(ctx context.Context, h sls.Holiday) error {
	_, err := t.exec(ctx, `INSERT INTO holidays (day, name, created_at) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET name = excluded.name`, h.Date, h.Name, h.CreatedAt.UnixMicro())
	return wrap("put holiday", err)
}

func (t *tx) DeleteHoliday(ctx context.Context, date string) error {
	res, err := t.exec(ctx, `DELETE FROM holidays WHERE day = ?`, date)
	return mustAffect("delete holiday", res, err)
}

// --- device orders ---

const orderCols = `id, user_id, account_id, kind, origin, state, device_id, serial, replaces_id, replace_reason, address_sealed,
	pin_sealed, deposit_usd, fee_usd, expected_delivery, carrier, tracking, ordered_at, shipped_at, delivered_at, auto_activate_at,
	activated_at, return_reason, return_carrier, return_tracking, return_region, return_sent_at, received_at, assessment,
	activation_challenge, activation_deadline, updated_at`

func scanOrder(s scanner) (*sls.DeviceOrder, error) {
	var o sls.DeviceOrder
	var ordered, updated int64
	err := s.Scan(&o.ID, &o.UserID, &o.AccountID, &o.Kind, &o.Origin, &o.State, &o.DeviceID, &o.Serial, &o.ReplacesID,
		&o.ReplaceReason, &o.SealedAddress, &o.SealedPIN, &o.DepositUSD, &o.FeeUSD, &o.ExpectedDelivery, &o.Carrier, &o.Tracking,
		&ordered, nullTime{&o.ShippedAt}, nullTime{&o.DeliveredAt}, nullTime{&o.AutoActivateAt}, nullTime{&o.ActivatedAt},
		&o.ReturnReason, &o.ReturnCarrier, &o.ReturnTracking, &o.ReturnRegion, nullTime{&o.ReturnSentAt}, nullTime{&o.ReceivedAt},
		&o.Assessment, &o.ActivationChallenge, nullTime{&o.ActivationDeadline}, &updated)
	if err != nil {
		return nil, err
	}
	o.OrderedAt, o.UpdatedAt = fromMicro(ordered), fromMicro(updated)
	return &o, nil
}

func orderArgs(o *sls.DeviceOrder) []any {
	return []any{o.ID, o.UserID, o.AccountID, o.Kind, o.Origin, o.State, o.DeviceID, o.Serial, o.ReplacesID, o.ReplaceReason,
		o.SealedAddress, o.SealedPIN, o.DepositUSD, o.FeeUSD, o.ExpectedDelivery, o.Carrier, o.Tracking, o.OrderedAt.UnixMicro(),
		ts(o.ShippedAt), ts(o.DeliveredAt), ts(o.AutoActivateAt), ts(o.ActivatedAt), o.ReturnReason, o.ReturnCarrier,
		o.ReturnTracking, o.ReturnRegion, ts(o.ReturnSentAt), ts(o.ReceivedAt), o.Assessment, o.ActivationChallenge,
		ts(o.ActivationDeadline), o.UpdatedAt.UnixMicro()}
}

func (t *tx) CreateDeviceOrder(ctx context.Context, o *sls.DeviceOrder) error {
	args := orderArgs(o)
	_, err := t.exec(ctx, `INSERT INTO device_orders (`+orderCols+`) VALUES (`+placeholders(len(args))+`)`, args...)
	return wrap("create device order", err)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func (t *tx) DeviceOrder(ctx context.Context, id string) (*sls.DeviceOrder, error) {
	o, err := scanOrder(t.queryRow(ctx, `SELECT `+orderCols+` FROM device_orders WHERE id = ?`, id))
	return o, wrap("device order", err)
}

func (t *tx) DeviceOrderForUpdate(ctx context.Context, id string) (*sls.DeviceOrder, error) {
	o, err := scanOrder(t.queryRow(ctx, `SELECT `+orderCols+` FROM device_orders WHERE id = ?`+t.forUpdate(), id))
	return o, wrap("device order", err)
}

func (t *tx) PutDeviceOrder(ctx context.Context, o *sls.DeviceOrder) error {
	// Every column but the id, the owner and the order time may change.
	cols := strings.Split(strings.Join(strings.Fields(orderCols), ""), ",")
	args := orderArgs(o)
	var set []string
	var vals []any
	for i, c := range cols {
		switch c {
		case "id", "user_id", "ordered_at":
			continue
		}
		set = append(set, c+" = ?")
		vals = append(vals, args[i])
	}
	vals = append(vals, o.ID)
	res, err := t.exec(ctx, `UPDATE device_orders SET `+strings.Join(set, ", ")+` WHERE id = ?`, vals...)
	return mustAffect("put device order", res, err)
}

func (t *tx) DeviceOrders(ctx context.Context, f sls.DeviceOrderFilter) ([]*sls.DeviceOrder, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if f.AccountID != "" {
		add("account_id = ?", f.AccountID)
	}
	if f.State != "" {
		add("state = ?", f.State)
	}
	if f.DeviceID != "" {
		add("device_id = ?", f.DeviceID)
	}
	if !f.AutoActivateBefore.IsZero() {
		add("auto_activate_at IS NOT NULL AND auto_activate_at <= ?", f.AutoActivateBefore.UnixMicro())
	}
	q := `SELECT ` + orderCols + ` FROM device_orders`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.query(ctx, q+fmt.Sprintf(` ORDER BY ordered_at, id LIMIT %d`, limit), args...)
	if err != nil {
		return nil, wrap("device orders", err)
	}
	return collect(rows, scanOrder)
}

func (t *tx) AppendDeviceOrderEvent(ctx context.Context, e *sls.DeviceOrderEvent) error {
	// Callers hold the order's lock (DeviceOrderForUpdate), so reading the
	// last sequence number and inserting the next cannot race; the primary
	// key refuses a duplicate if a caller forgot.
	var last int
	if err := t.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM device_order_events WHERE order_id = ?`, e.OrderID).Scan(&last); err != nil {
		return wrap("append order event", err)
	}
	e.Seq = last + 1
	_, err := t.exec(ctx, `INSERT INTO device_order_events (order_id, seq, at, event, from_state, to_state, actor, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.OrderID, e.Seq, e.At.UnixMicro(), e.Event, e.From, e.To, e.Actor, e.Detail)
	return wrap("append order event", err)
}

func (t *tx) DeviceOrderEvents(ctx context.Context, orderID string) ([]sls.DeviceOrderEvent, error) {
	rows, err := t.query(ctx, `SELECT order_id, seq, at, event, from_state, to_state, actor, detail FROM device_order_events
		WHERE order_id = ? ORDER BY seq`, orderID)
	if err != nil {
		return nil, wrap("order events", err)
	}
	return collect(rows, func(s scanner) (sls.DeviceOrderEvent, error) {
		var e sls.DeviceOrderEvent
		var at int64
		err := s.Scan(&e.OrderID, &e.Seq, &at, &e.Event, &e.From, &e.To, &e.Actor, &e.Detail)
		e.At = fromMicro(at)
		return e, err
	})
}

func (t *tx) MarkOrderNotice(ctx context.Context, orderID, key string, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO order_notices (order_id, notice, sent_at) VALUES (?, ?, ?) ON CONFLICT (order_id, notice) DO NOTHING`,
		orderID, key, at.UnixMicro())
	if err != nil {
		return false, wrap("mark order notice", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("mark order notice", err)
}

func (t *tx) OrderNotices(ctx context.Context, orderID string) (map[string]time.Time, error) {
	rows, err := t.query(ctx, `SELECT notice, sent_at FROM order_notices WHERE order_id = ?`, orderID)
	if err != nil {
		return nil, wrap("order notices", err)
	}
	type pair struct {
		k  string
		at time.Time
	}
	list, err := collect(rows, func(s scanner) (pair, error) {
		var p pair
		var at int64
		err := s.Scan(&p.k, &at)
		p.at = fromMicro(at)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(list))
	for _, p := range list {
		out[p.k] = p.at
	}
	return out, nil
}

// --- deposit ledger ---

const depositCols = `id, order_id, account_id, user_id, kind, usd_cents, at, actor, reason`

func (t *tx) AddDepositEntry(ctx context.Context, e *sls.DepositEntry) (bool, error) {
	// No conflict target: both the (order, kind) key and the one-settlement
	// index turn a repeat into "nothing stored".
	res, err := t.exec(ctx, `INSERT INTO deposit_ledger (`+depositCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.ID, e.OrderID, e.AccountID, e.UserID, e.Kind, e.USD, e.At.UnixMicro(), e.Actor, e.Reason)
	if err != nil {
		return false, wrap("add deposit entry", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("add deposit entry", err)
}

func (t *tx) DepositEntries(ctx context.Context, accountID, orderID string) ([]*sls.DepositEntry, error) {
	// Entries made at the same instant list the hold before what settles it.
	const order = ` ORDER BY at, CASE kind WHEN 'hold' THEN 0 WHEN 'fee' THEN 1 ELSE 2 END, id`
	q, arg := `SELECT `+depositCols+` FROM deposit_ledger WHERE account_id = ?`+order, accountID
	if accountID == "" {
		q, arg = `SELECT `+depositCols+` FROM deposit_ledger WHERE order_id = ?`+order, orderID
	}
	rows, err := t.query(ctx, q, arg)
	if err != nil {
		return nil, wrap("deposit entries", err)
	}
	return collect(rows, func(s scanner) (*sls.DepositEntry, error) {
		var e sls.DepositEntry
		var at int64
		err := s.Scan(&e.ID, &e.OrderID, &e.AccountID, &e.UserID, &e.Kind, &e.USD, &at, &e.Actor, &e.Reason)
		e.At = fromMicro(at)
		return &e, err
	})
}

// --- devices seen by the lifecycle ---

func (t *tx) DevicesBySerial(ctx context.Context, kind sls.DeviceKind, serial string) ([]*sls.Device, error) {
	rows, err := t.query(ctx, `SELECT `+deviceCols+` FROM devices WHERE kind = ? AND serial = ? ORDER BY created_at, id`, kind, serial)
	if err != nil {
		return nil, wrap("devices by serial", err)
	}
	return collect(rows, scanDevice)
}

func (t *tx) ExpiringDevices(ctx context.Context, now time.Time, limit int) ([]*sls.Device, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := t.query(ctx, `SELECT `+deviceCols+` FROM devices WHERE expires_at IS NOT NULL AND expires_at <= ?
		AND state IN (?, ?, ?) ORDER BY expires_at, id LIMIT `+fmt.Sprint(limit),
		now.UnixMicro(), sls.StatePending, sls.StateActive, sls.StateSuspended)
	if err != nil {
		return nil, wrap("expiring devices", err)
	}
	return collect(rows, scanDevice)
}
