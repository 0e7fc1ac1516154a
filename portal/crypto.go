package portal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/cryptorules"
	"github.com/secure-login-system/sls/cryptotrade"
)

// Crypto is what the cryptocurrency page needs (*cryptotrade.Service):
// the trading permission and the order check of the Hong Kong entity
// (SPEC §9). Nil where the entity does not offer it: no page, no menu.
type Crypto interface {
	Permission(ctx context.Context, u *sls.User) (*cryptotrade.Permission, error)
	RequestPermission(ctx context.Context, u *sls.User, req cryptotrade.PermissionRequest) (*cryptotrade.Permission, error)
	CheckOrder(ctx context.Context, u *sls.User, req cryptotrade.OrderRequest) (*cryptotrade.OrderAnswer, error)
	// Rules are the figures in force, which the page states.
	Rules() cryptorules.Rules
}

var _ Crypto = (*cryptotrade.Service)(nil)

// cryptoRules are the refusal rules the page names in the client's
// language (cryptorules' and cryptotrade's stable rule names).
var cryptoRules = []string{"hong_kong_resident", "professional_investor", "crypto_permission", "crypto_offered", "symbol", "no_margin",
	"side", "amount", "market_in_value", "limit_price", "order_type", "price", "time_in_force", "min_order", "no_short_sale", "cash",
	"position_limit", "trading_hours"}

// cryptoRefusal is a refusal as the page shows it: the rule's name in
// the client's language, the figure needed and the one measured.
type cryptoRefusal struct {
	Rule, Title, Need, Have string
}

type cryptoPage struct {
	Rules   cryptorules.Rules
	Perm    *cryptotrade.Permission
	Refusal *cryptoRefusal
	Answer  *cryptotrade.OrderAnswer
	// Order is the order form's values (kept after a check).
	Order map[string]string
	// Assets, Institution and Resident keep the permission form's values
	// after a refusal.
	Assets              string
	Institution         bool
	Resident            bool
	Symbols, Sides      []string
	Kinds, TimesInForce []string
}

func (p *Portal) cryptoRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.Crypto == nil {
		return
	}
	handle("GET /crypto", sls.ForSession, p.cryptoPage)
	// Asking for the permission opens a new kind of trading: a fresh
	// device proof, as the API's POST /api/v1/crypto/permission.
	handle("POST /crypto/permission", sls.ForStepUp, p.cryptoRequest)
	// Checking an order changes nothing (as the API's check).
	handle("POST /crypto/check", sls.ForSession, p.cryptoCheck)
}

// cryptoPage shows the rules and the forms; after a form, the answer it
// left in the flash (post/redirect/get).
func (p *Portal) cryptoPage(q *req) {
	var refusal *cryptoRefusal
	var answer *cryptotrade.OrderAnswer
	if q.flash != nil {
		if v := q.flash.Fields["refusal"]; v != "" {
			var r cryptoRefusal
			if json.Unmarshal([]byte(v), &r) == nil {
				refusal = q.cryptoRefusalOf(r.Rule, r.Need, r.Have)
			}
		}
		if v := q.flash.Fields["order_result"]; v != "" {
			var a cryptotrade.OrderAnswer
			if json.Unmarshal([]byte(v), &a) == nil {
				answer = &a
			}
		}
	}
	p.renderCrypto(q, http.StatusOK, refusal, answer, nil)
}

// cryptoFields are the forms' fields the page fills in again.
var cryptoFields = []string{"symbol", "side", "kind", "time_in_force", "value_usd", "quantity", "limit_price", "market_price",
	"equity_usd", "cash_usd", "held_quantity", "month_volume_usd", "investable_assets_hkd", "investor_type", "hong_kong_resident"}

// cryptoBack answers a crypto form with its page, the refusal and the
// answer travelling in the flash.
func (q *req) cryptoBack(f flash, refusal *cryptoRefusal, answer *cryptotrade.OrderAnswer) {
	f.Fields = map[string]string{}
	for _, k := range cryptoFields {
		if v := q.r.PostFormValue(k); v != "" {
			f.Fields[k] = v
		}
	}
	if refusal != nil {
		b, _ := json.Marshal(refusal)
		f.Fields["refusal"] = string(b)
	}
	if answer != nil {
		b, _ := json.Marshal(answer)
		f.Fields["order_result"] = string(b)
	}
	q.redirectWith("/crypto", f)
}

func (p *Portal) renderCrypto(q *req, status int, refusal *cryptoRefusal, answer *cryptotrade.OrderAnswer, opts []renderOpt) {
	perm, err := p.d.Crypto.Permission(q.r.Context(), q.u)
	if err != nil {
		if sls.ErrorCode(err) == sls.CodeNotEligible {
			q.status = statusOf(err)
			q.render("error", q.t("err.title"), errorPage{Message: q.t("crypto.rule.crypto_offered")})
			return
		}
		q.fail(err)
		return
	}
	rules := p.d.Crypto.Rules()
	pg := cryptoPage{Rules: rules, Perm: perm, Refusal: refusal, Answer: answer, Order: map[string]string{}, Symbols: rules.Symbols,
		Sides: []string{"buy", "sell"}, Kinds: []string{"market", "limit"}, TimesInForce: []string{"ioc", "minutes", "day", "gtc"}}
	if q.r.Method == http.MethodPost || q.flash != nil {
		for _, k := range cryptoFields[:12] {
			pg.Order[k] = strings.TrimSpace(q.formValue(k))
		}
		pg.Assets = strings.TrimSpace(q.formValue("investable_assets_hkd"))
		pg.Institution = q.formValue("investor_type") == cryptotrade.Institution
		pg.Resident = q.formValue("hong_kong_resident") == "on"
	}
	q.status = status
	q.render("crypto", q.t("crypto.title"), pg, opts...)
}

// cryptoRefusalOf is a refusal's rule, need and have as the page shows
// them: the rule named in the client's language.
func (q *req) cryptoRefusalOf(rule, need, have string) *cryptoRefusal {
	title := q.t("crypto.rule." + rule)
	if title == "crypto.rule."+rule {
		title = q.t("crypto.rule.other")
	}
	return &cryptoRefusal{Rule: rule, Title: title, Need: need, Have: have}
}

func (p *Portal) cryptoRequest(q *req) {
	f := q.r.PostForm
	investor := cryptotrade.Individual
	if f.Get("investor_type") == cryptotrade.Institution {
		investor = cryptotrade.Institution
	}
	_, err := p.d.Crypto.RequestPermission(q.r.Context(), q.u, cryptotrade.PermissionRequest{InvestorType: investor,
		InvestableAssetsHKD: strings.TrimSpace(f.Get("investable_assets_hkd")), HongKongResident: f.Get("hong_kong_resident") == "on"})
	if err != nil {
		var e *sls.Error
		if sls.ErrorCode(err) == sls.CodeNotEligible && errors.As(err, &e) {
			rule, _ := e.Detail["rule"].(string)
			need, _ := e.Detail["need"].(string)
			have, _ := e.Detail["have"].(string)
			r := q.cryptoRefusalOf(rule, need, have)
			q.cryptoBack(flash{Error: q.t("crypto.permission_refused", r.Title), Status: statusOf(err)}, r, nil)
			return
		}
		q.cryptoBack(flash{Error: q.errText(err), Status: statusOf(err)}, nil, nil)
		return
	}
	// Post/redirect/get: a reload does not ask again.
	q.redirect("/crypto?n=crypto_granted")
}

func (p *Portal) cryptoCheck(q *req) {
	f := q.r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	order := cryptotrade.OrderRequest{Symbol: get("symbol"), Side: get("side"), Kind: get("kind"), TimeInForce: get("time_in_force"),
		ValueUSD: get("value_usd"), Quantity: get("quantity"), LimitPrice: get("limit_price"), MarketPrice: get("market_price"),
		EquityUSD: get("equity_usd"), CashUSD: get("cash_usd"), HeldQuantity: get("held_quantity"), MonthVolumeUSD: get("month_volume_usd")}
	ans, err := p.d.Crypto.CheckOrder(q.r.Context(), q.u, order)
	if err != nil {
		q.cryptoBack(flash{Error: q.errText(err), Status: statusOf(err)}, nil, nil)
		return
	}
	if ans.Refusal != nil {
		refusal := q.cryptoRefusalOf(ans.Refusal.Rule, ans.Refusal.Need, ans.Refusal.Have)
		q.cryptoBack(flash{Error: q.t("crypto.order_refused", refusal.Title)}, refusal, ans)
		return
	}
	q.cryptoBack(flash{Notice: q.t("crypto.order_accepted")}, nil, ans)
}
