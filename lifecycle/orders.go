package lifecycle

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// Eligibility says whether the account may order a DSC+ (SPEC §1: equity
// at or above the threshold).
type Eligibility struct {
	Eligible     bool   `json:"eligible"`
	AccountID    string `json:"account_id"`
	EquityUSD    int64  `json:"equity_usd_cents"`
	ThresholdUSD int64  `json:"threshold_usd_cents"`
	Condition    string `json:"condition,omitempty"`
	Message      string `json:"message,omitempty"`
}

func (s *Service) threshold() int64 {
	if s.Config.ThresholdUSD > 0 {
		return s.Config.ThresholdUSD
	}
	return policy.DefaultDSCPlusThreshold
}

func (s *Service) eligibility(ctx context.Context, tx sls.Tx, a *sls.Account) (*Eligibility, error) {
	el := &Eligibility{AccountID: a.ID, ThresholdUSD: s.threshold()}
	// Rounded down: rounding must never lift an account over the line.
	usd, _, err := s.Protect.ToUSD(ctx, tx, policy.Money{Currency: a.BaseCurrency, Minor: a.EquityMinor}, false)
	if err != nil {
		return nil, err
	}
	el.EquityUSD = usd
	if err := policy.CheckDSCPlusEligible(usd, el.ThresholdUSD); err != nil {
		e := err.(*sls.Error)
		el.Condition, _ = e.Detail[policy.DetailCondition].(string)
		el.Message = e.Message
		return el, nil
	}
	el.Eligible = true
	return el, nil
}

// CheckDSCPlusEligible refuses (not_eligible/equity_below_threshold) an
// account whose equity, converted to USD rounding down, is below the
// configured threshold. The order form and operator issuance
// (manage.DSCPlusRules) both apply it.
func (s *Service) CheckDSCPlusEligible(ctx context.Context, tx sls.Tx, a *sls.Account) error {
	el, err := s.eligibility(ctx, tx, a)
	if err != nil || el.Eligible {
		return err
	}
	return policy.CheckDSCPlusEligible(el.EquityUSD, el.ThresholdUSD)
}

// Replacement names the device an order replaces, and why.
type Replacement struct {
	DeviceID string                   `json:"device_id"`
	Reason   policy.ReplacementReason `json:"reason"` // lost, stolen, damaged
}

// OrderRequest is the order form as the client fills it in.
type OrderRequest struct {
	// ShippingAddress is where to ship; empty means the address on file.
	ShippingAddress string `json:"shipping_address,omitempty"`
	// SaveAddress also keeps ShippingAddress on file for next time.
	SaveAddress bool `json:"save_address,omitempty"`
	// PIN is the 4-digit PIN the card will ask for (never stored in
	// clear; erased once the card is made).
	PIN     string       `json:"pin" required:"true"`
	Replace *Replacement `json:"replace,omitempty"`
	// Summary is the digest of the summary the client confirmed (from
	// Preview); placing an order that differs from it is refused.
	Summary string `json:"summary,omitempty"`
}

// Summary is what the client confirms before the order is placed ("Back"
// changes the form and previews again).
type Summary struct {
	Kind             sls.DeviceKind `json:"kind"`
	ShippingAddress  string         `json:"shipping_address"`
	DepositAccount   string         `json:"deposit_account"`
	DepositUSD       int64          `json:"deposit_usd_cents"`
	FeeUSD           int64          `json:"fee_usd_cents"`
	Replaces         *Replacement   `json:"replaces,omitempty"`
	ExpectedDelivery string         `json:"expected_delivery"`
	// Digest names this summary; send it back to place the order.
	Digest string `json:"summary"`
}

// prepared is a validated order, ready to place.
type prepared struct {
	sum     Summary
	pin     string
	account *sls.Account
	old     *sls.Device // the device replaced
	reason  policy.ReplacementReason
	origin  string
}

// unreplacedReport finds the newest card the user reported lost, stolen
// or damaged (the report is the record's last event, made by the client)
// that no later order replaces, and returns it as the replacement a new
// order must be; nil when there is none.
func unreplacedReport(ctx context.Context, tx sls.Tx, userID string) (*Replacement, error) {
	list, err := tx.DeviceOrders(ctx, sls.DeviceOrderFilter{UserID: userID})
	if err != nil {
		return nil, err
	}
	replaced := map[string]bool{}
	for _, o := range list {
		if o.ReplacesID != "" {
			replaced[o.ReplacesID] = true
		}
	}
	reasons := map[string]policy.ReplacementReason{
		string(policy.EventReportLost): policy.ReplaceLost, string(policy.EventReportStolen): policy.ReplaceStolen,
		string(policy.EventReportDamaged): policy.ReplaceDamaged,
	}
	for i := len(list) - 1; i >= 0; i-- {
		o := list[i]
		if replaced[o.ID] || o.DeviceID == "" {
			continue
		}
		events, err := tx.DeviceOrderEvents(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		if len(events) == 0 {
			continue
		}
		if reason, ok := reasons[events[len(events)-1].Event]; ok {
			return &Replacement{DeviceID: o.DeviceID, Reason: reason}, nil
		}
	}
	return nil, nil
}

// underWay returns an order of the user that is not finished (not yet with
// the client and active), other than the one of device except (the device
// a replacement replaces: a delivered card stolen from the mailbox is
// replaced before it was ever activated).
func underWay(ctx context.Context, tx sls.Tx, userID, except string) (*sls.DeviceOrder, error) {
	list, err := tx.DeviceOrders(ctx, sls.DeviceOrderFilter{UserID: userID})
	if err != nil {
		return nil, err
	}
	for _, o := range list {
		if except != "" && o.DeviceID == except {
			continue
		}
		switch policy.State(o.State) {
		case policy.StateOrdered, policy.StateShipped, policy.StateDelivered:
			return o, nil
		}
	}
	return nil, nil
}

// temporaryAccess is whether the session was authenticated by the
// temporary access Client Services grants after verifying the client by
// phone (SPEC §6).
func temporaryAccess(sess *sls.Session) bool {
	return sess.DeviceKind == sls.KindTempPasscode || sess.DeviceKind == sls.KindOnlineCard
}

func (s *Service) prepare(ctx context.Context, tx sls.Tx, sess *sls.Session, u *sls.User, req OrderRequest, now time.Time) (*prepared, error) {
	if err := policy.CheckPIN(req.PIN); err != nil {
		return nil, err
	}
	a, err := tx.Account(ctx, u.AccountID)
	if err != nil {
		return nil, err
	}
	if a.Closed() {
		return nil, sls.Errorf(sls.CodeForbidden, "Account %s is closed.", a.ID)
	}
	var except string
	if req.Replace != nil {
		except = req.Replace.DeviceID
	}
	if o, err := underWay(ctx, tx, u.ID, except); err != nil {
		return nil, err
	} else if o != nil {
		return nil, sls.Errorf(sls.CodeConflict, "Order %s is still under way (%s); it must be finished first.", o.ID, o.State).
			WithDetail(policy.DetailCondition, CondOrderUnderWay).WithDetail("order_id", o.ID)
	}
	p := &prepared{pin: req.PIN, account: a, origin: sls.OriginOrder}
	p.sum = Summary{Kind: sls.KindDSCPlus, DepositAccount: a.ID, DepositUSD: policy.Deposit}
	if addr := strings.TrimSpace(req.ShippingAddress); addr != "" {
		if p.sum.ShippingAddress, err = cleanAddress(addr); err != nil {
			return nil, err
		}
	} else {
		if p.sum.ShippingAddress, err = s.addressOnFile(ctx, tx, u.ID); err != nil {
			return nil, err
		}
		if p.sum.ShippingAddress == "" {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "There is no shipping address on file; enter one.").WithDetail("field", "shipping_address")
		}
	}
	devices, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if req.Replace == nil {
		// A card the client reported lost, stolen or damaged and has not
		// replaced yet makes any new order its replacement, with the
		// replacement's fee and rules: reporting first and then placing a
		// plain order must not skip them.
		if r, err := unreplacedReport(ctx, tx, u.ID); err != nil {
			return nil, err
		} else if r != nil {
			req.Replace = r
		}
	}
	if req.Replace == nil {
		for _, d := range devices {
			if d.Kind == sls.KindDSCPlus && (d.State == sls.StateActive || d.State == sls.StateSuspended) {
				return nil, sls.Errorf(sls.CodeConflict, "You already have a Digital Security Card+ (%s); to replace it, name it as the device to replace.", d.Serial).
					WithDetail(policy.DetailCondition, CondAlreadyHeld).WithDetail("device_id", d.ID)
			}
		}
		if err := s.CheckDSCPlusEligible(ctx, tx, a); err != nil {
			return nil, err
		}
	} else {
		// A replacement keeps the card of an existing holder whatever the
		// equity is now; its reason decides the fee and, for a lost or
		// stolen card, that temporary access is required (SPEC §6).
		r := *req.Replace
		fee, err := s.Config.Fees.Replacement(r.Reason)
		if err != nil {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "The replacement reason must be lost, stolen or damaged.").WithDetail("field", "replace.reason")
		}
		old, err := userDevice(ctx, tx, u, r.DeviceID)
		if err != nil {
			return nil, err
		}
		if !old.Kind.Physical() {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "Only a physical security device is replaced by ordering a card; a %s is not.", old.Kind.Title())
		}
		if (r.Reason == policy.ReplaceLost || r.Reason == policy.ReplaceStolen) && !temporaryAccess(sess) {
			return nil, sls.Errorf(sls.CodeForbidden,
				"To replace a lost or stolen card, call Client Services to verify your identity and receive temporary access (a temporary passcode or an Online Security Code Card), then log in with it.").
				WithDetail(policy.DetailCondition, CondTemporaryAccessRequired)
		}
		p.old, p.reason, p.origin = old, r.Reason, sls.OriginReplacement
		p.sum.FeeUSD, p.sum.Replaces = fee, &r
	}
	cal, err := s.Protect.Calendar(ctx, tx)
	if err != nil {
		return nil, err
	}
	p.sum.ExpectedDelivery = policy.ExpectedDelivery(now, s.Config.DeliveryBusinessDays, cal).String()
	p.sum.Digest = s.digest(u, p)
	return p, nil
}

// digest names a summary: a keyed hash of every field the client confirms,
// the PIN included (so a changed PIN changes it) without revealing it.
// The expected delivery date is left out: it may move by a day between the
// summary and the confirmation without changing what is ordered.
func (s *Service) digest(u *sls.User, p *prepared) string {
	var replace string
	if p.sum.Replaces != nil {
		replace = p.sum.Replaces.DeviceID + "/" + string(p.sum.Replaces.Reason)
	}
	text := strings.Join([]string{u.ID, string(p.sum.Kind), p.sum.ShippingAddress, p.sum.DepositAccount,
		fmt.Sprint(p.sum.DepositUSD), fmt.Sprint(p.sum.FeeUSD), replace, p.pin}, "\x00")
	return hex.EncodeToString(s.Sealer.KeyedHash("dscplus order summary v1", []byte(text))[:16])
}

func (s *Service) addressOnFile(ctx context.Context, tx sls.Tx, userID string) (string, error) {
	p, err := tx.ProtectionSettings(ctx, userID)
	if err != nil || len(p.SealedShippingAddress) == 0 {
		return "", err
	}
	b, err := s.Sealer.Open(onFilePlace(userID), p.SealedShippingAddress)
	if err != nil {
		return "", fmt.Errorf("lifecycle: address on file: %w", err)
	}
	return string(b), nil
}

func (s *Service) putAddressOnFile(ctx context.Context, tx sls.Tx, userID, addr, actor string, now time.Time) error {
	p, err := tx.ProtectionSettings(ctx, userID)
	if err != nil {
		return err
	}
	if p.SealedShippingAddress, err = s.Sealer.Seal(onFilePlace(userID), []byte(addr)); err != nil {
		return err
	}
	p.UpdatedAt = now
	if err := tx.PutProtectionSettings(ctx, p); err != nil {
		return err
	}
	return sls.Audit(ctx, tx, now, actor, EventAddressChanged, userID, "", nil) // never the address itself
}

// OrderForm is what the order page shows before the client fills it in.
type OrderForm struct {
	Eligibility      *Eligibility      `json:"eligibility"`
	ShippingAddress  string            `json:"shipping_address"` // on file; changeable
	DepositAccount   string            `json:"deposit_account"`
	DepositUSD       int64             `json:"deposit_usd_cents"`
	Fees             map[string]int64  `json:"replacement_fees_usd_cents"`
	ExpectedDelivery string            `json:"expected_delivery"` // if ordered now
	Replaceable      []*sls.Device     `json:"replaceable"`
	UnderWay         *sls.DeviceOrder  `json:"order_under_way,omitempty"`
	TemporaryAccess  bool              `json:"temporary_access"`
	Steps            map[string]string `json:"steps"`
}

// Form returns the order form for the session's user.
func (s *Service) Form(ctx context.Context, sess *sls.Session, u *sls.User) (*OrderForm, error) {
	now := s.now()
	var out *OrderForm
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		a, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		el, err := s.eligibility(ctx, tx, a)
		if err != nil {
			return err
		}
		addr, err := s.addressOnFile(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		cal, err := s.Protect.Calendar(ctx, tx)
		if err != nil {
			return err
		}
		f := s.Config.Fees
		out = &OrderForm{Eligibility: el, ShippingAddress: addr, DepositAccount: a.ID, DepositUSD: policy.Deposit,
			Fees:             map[string]int64{"lost": f.Lost, "stolen": f.Stolen, "damaged": f.Damaged},
			ExpectedDelivery: policy.ExpectedDelivery(now, s.Config.DeliveryBusinessDays, cal).String(),
			Replaceable:      []*sls.Device{}, TemporaryAccess: temporaryAccess(sess),
			Steps: map[string]string{"summary": "POST /api/v1/dscplus/orders/preview", "confirm": "POST /api/v1/dscplus/orders",
				"back": "change the form and preview again"}}
		devs, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, d := range devs {
			if d.Kind.Physical() && d.State != sls.StateRevoked && d.State != sls.StateExpired {
				out.Replaceable = append(out.Replaceable, d)
			}
		}
		out.UnderWay, err = underWay(ctx, tx, u.ID, "")
		return err
	})
	return out, err
}

// Preview validates the form and returns the summary to confirm. Nothing
// is stored.
func (s *Service) Preview(ctx context.Context, sess *sls.Session, u *sls.User, req OrderRequest) (*Summary, error) {
	now := s.now()
	var out *Summary
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		p, err := s.prepare(ctx, tx, sess, u, req, now)
		if err != nil {
			return err
		}
		out = &p.sum
		return nil
	})
	return out, err
}

// Confirmation is the answer to a placed order.
type Confirmation struct {
	Order            *OrderView `json:"order"`
	ExpectedDelivery string     `json:"expected_delivery"`
	DepositAccount   string     `json:"deposit_account"`
	DepositUSD       int64      `json:"deposit_usd_cents"`
	FeeUSD           int64      `json:"fee_usd_cents"`
	Message          string     `json:"message"`
}

// Place places the order the client confirmed: req must carry the digest
// of its summary. A replacement for a lost or stolen card first marks the
// old card lost or stolen (its deposit is forfeited, its device rows
// revoked); for a damaged one, the old card is marked damaged and awaits
// its return. The USD 20 deposit is held on the account, and a
// replacement fee charged when configured.
func (s *Service) Place(ctx context.Context, sess *sls.Session, user *sls.User, req OrderRequest) (*Confirmation, error) {
	if req.Summary == "" {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Confirm the order's summary first: send the summary from the preview.").WithDetail("field", "summary")
	}
	now := s.now()
	actor := sls.ActorUser(user.ID)
	var out *Confirmation
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID) // one order at a time per user
		if err != nil {
			return err
		}
		p, err := s.prepare(ctx, tx, sess, u, req, now)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(p.sum.Digest), []byte(req.Summary)) != 1 {
			return sls.Errorf(sls.CodeConflict, "The order differs from the summary you confirmed; review the summary again.").
				WithDetail(policy.DetailCondition, CondSummaryChanged)
		}
		if p.old != nil {
			if err := s.retireReplaced(ctx, tx, p, actor, now); err != nil {
				return err
			}
		}
		o := &sls.DeviceOrder{ID: sls.NewID("ord"), UserID: u.ID, AccountID: p.account.ID, Kind: sls.KindDSCPlus, Origin: p.origin,
			State: string(policy.StateOrdered), DepositUSD: p.sum.DepositUSD, FeeUSD: p.sum.FeeUSD, ExpectedDelivery: p.sum.ExpectedDelivery,
			OrderedAt: now, UpdatedAt: now}
		if p.old != nil {
			o.ReplaceReason = string(p.reason)
			if prev, err := tx.DeviceOrders(ctx, sls.DeviceOrderFilter{DeviceID: p.old.ID}); err == nil && len(prev) > 0 {
				o.ReplacesID = prev[len(prev)-1].ID
			}
		}
		if o.SealedAddress, err = s.Sealer.Seal(addressPlace(o.ID), []byte(p.sum.ShippingAddress)); err != nil {
			return err
		}
		if o.SealedPIN, err = s.Sealer.Seal(pinPlace(o.ID), []byte(p.pin)); err != nil {
			return err
		}
		if err := tx.CreateDeviceOrder(ctx, o); err != nil {
			return err
		}
		if err := s.history(ctx, tx, o, historyOrder, "", o.State, actor, now, map[string]any{"origin": o.Origin, "replaces": o.ReplacesID}); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, actor, EventOrderPlaced, u.ID, "", map[string]any{"order_id": o.ID, "kind": o.Kind,
			"origin": o.Origin, "replaces": o.ReplacesID, "reason": o.ReplaceReason, "expected_delivery": o.ExpectedDelivery,
			"deposit_account": o.AccountID, "session_id": sess.ID}); err != nil {
			return err
		}
		if err := s.ledger(ctx, tx, o, sls.DepositHold, o.DepositUSD, EventDepositHeld, actor, now, "order"); err != nil {
			return err
		}
		if o.FeeUSD > 0 {
			if err := s.ledger(ctx, tx, o, sls.DepositFee, o.FeeUSD, EventFeeCharged, actor, now, "replacement_"+o.ReplaceReason); err != nil {
				return err
			}
		}
		if req.SaveAddress && strings.TrimSpace(req.ShippingAddress) != "" {
			if err := s.putAddressOnFile(ctx, tx, u.ID, p.sum.ShippingAddress, actor, now); err != nil {
				return err
			}
		}
		view, err := s.view(ctx, tx, o, false)
		if err != nil {
			return err
		}
		out = &Confirmation{Order: view, ExpectedDelivery: o.ExpectedDelivery, DepositAccount: o.AccountID, DepositUSD: o.DepositUSD,
			FeeUSD: o.FeeUSD, Message: fmt.Sprintf("Your Digital Security Card+ is ordered. Expected delivery: %s. A deposit of %s is held on account %s until the card is returned.",
				o.ExpectedDelivery, policy.FormatUSD(o.DepositUSD), o.AccountID)}
		return nil
	})
	return out, err
}

// retireReplaced marks the device an order replaces: lost or stolen
// (deposit forfeited) or damaged (awaiting return); its rows are revoked.
func (s *Service) retireReplaced(ctx context.Context, tx sls.Tx, p *prepared, actor string, now time.Time) error {
	rec, err := s.recordFor(ctx, tx, p.old, actor, now)
	if err != nil {
		return err
	}
	ev, done := policy.EventReportDamaged, []policy.State{policy.StateDamaged, policy.StateReturnSent, policy.StateReturned}
	switch p.reason {
	case policy.ReplaceLost:
		ev, done = policy.EventReportLost, []policy.State{policy.StateLost}
	case policy.ReplaceStolen:
		ev, done = policy.EventReportStolen, []policy.State{policy.StateStolen}
	}
	already := false
	for _, st := range done {
		already = already || policy.State(rec.State) == st
	}
	if !already {
		if err := s.step(ctx, tx, rec, ev, actor, now, map[string]any{"replaced_by_order": true}); err != nil {
			return err
		}
	}
	return s.revokeCard(ctx, tx, rec, actor, "replaced: "+string(p.reason), sls.EndDeviceReplaced, now)
}

func (s *Service) ledger(ctx context.Context, tx sls.Tx, o *sls.DeviceOrder, kind string, usd int64, event, actor string, now time.Time, reason string) error {
	ok, err := tx.AddDepositEntry(ctx, &sls.DepositEntry{ID: sls.NewID("dep"), OrderID: o.ID, AccountID: o.AccountID, UserID: o.UserID,
		Kind: kind, USD: usd, At: now, Actor: actor, Reason: reason})
	if err != nil || !ok {
		return err
	}
	return sls.Audit(ctx, tx, now, actor, event, o.UserID, "", map[string]any{"order_id": o.ID, "usd_cents": usd, "account_id": o.AccountID})
}

// OrderView is an order with what its owner or an operator may see.
type OrderView struct {
	*sls.DeviceOrder
	ShippingAddress string                 `json:"shipping_address,omitempty"`
	History         []sls.DeviceOrderEvent `json:"history"`
	Deposits        []*sls.DepositEntry    `json:"deposits"`
	Notices         map[string]time.Time   `json:"notices_sent,omitempty"`
	Allowed         []policy.Event         `json:"allowed_events"`
}

func (s *Service) view(ctx context.Context, tx sls.Tx, o *sls.DeviceOrder, full bool) (*OrderView, error) {
	v := &OrderView{DeviceOrder: o, Allowed: policy.Events(policy.State(o.State))}
	if len(o.SealedAddress) > 0 {
		b, err := s.Sealer.Open(addressPlace(o.ID), o.SealedAddress)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: address of %s: %w", o.ID, err)
		}
		v.ShippingAddress = string(b)
	}
	var err error
	if v.History, err = tx.DeviceOrderEvents(ctx, o.ID); err != nil {
		return nil, err
	}
	if v.Deposits, err = tx.DepositEntries(ctx, "", o.ID); err != nil {
		return nil, err
	}
	if v.Deposits == nil {
		v.Deposits = []*sls.DepositEntry{}
	}
	if full {
		if v.Notices, err = tx.OrderNotices(ctx, o.ID); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Orders lists the user's device orders (userID set) or, for operators,
// orders by account or state.
func (s *Service) Orders(ctx context.Context, f sls.DeviceOrderFilter) ([]*sls.DeviceOrder, error) {
	var out []*sls.DeviceOrder
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.DeviceOrders(ctx, f)
		return err
	})
	if out == nil {
		out = []*sls.DeviceOrder{}
	}
	return out, err
}

// Order returns one order with its history; userID, when set, must own it.
func (s *Service) Order(ctx context.Context, userID, id string) (*OrderView, error) {
	var out *OrderView
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		o, err := tx.DeviceOrder(ctx, id)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && userID != "" && o.UserID != userID) {
			return sls.Errorf(sls.CodeNotFound, "No device order %q.", id)
		}
		if err != nil {
			return err
		}
		out, err = s.view(ctx, tx, o, true)
		return err
	})
	return out, err
}

// SetAddress keeps a shipping address on file for a user (the user, or an
// operator from the account records).
func (s *Service) SetAddress(ctx context.Context, actor, userID, address string) error {
	addr, err := cleanAddress(address)
	if err != nil {
		return err
	}
	now := s.now()
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		if _, err := tx.UserForUpdate(ctx, userID); err != nil {
			return err
		}
		return s.putAddressOnFile(ctx, tx, userID, addr, actor, now)
	})
}

// Address returns the address on file.
func (s *Service) Address(ctx context.Context, userID string) (string, error) {
	var out string
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = s.addressOnFile(ctx, tx, userID)
		return err
	})
	return out, err
}

// Deposits returns an account's deposit ledger and what it adds up to.
type Deposits struct {
	AccountID    string              `json:"account_id"`
	Entries      []*sls.DepositEntry `json:"entries"`
	HeldUSD      int64               `json:"held_usd_cents"`      // still held
	ReleasedUSD  int64               `json:"released_usd_cents"`  // given back
	ForfeitedUSD int64               `json:"forfeited_usd_cents"` // kept as compensation
	FeesUSD      int64               `json:"fees_usd_cents"`
}

// Ledger returns an account's deposit ledger.
func (s *Service) Ledger(ctx context.Context, accountID string) (*Deposits, error) {
	out := &Deposits{AccountID: accountID, Entries: []*sls.DepositEntry{}}
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		if _, err := tx.Account(ctx, accountID); errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No account %q.", accountID)
		} else if err != nil {
			return err
		}
		list, err := tx.DepositEntries(ctx, accountID, "")
		if err != nil {
			return err
		}
		for _, e := range list {
			out.Entries = append(out.Entries, e)
			switch e.Kind {
			case sls.DepositHold:
				out.HeldUSD += e.USD
			case sls.DepositRelease:
				out.HeldUSD -= e.USD
				out.ReleasedUSD += e.USD
			case sls.DepositForfeit:
				out.HeldUSD -= e.USD
				out.ForfeitedUSD += e.USD
			case sls.DepositFee:
				out.FeesUSD += e.USD
			}
		}
		return nil
	})
	return out, err
}
