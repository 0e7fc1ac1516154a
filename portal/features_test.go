package portal

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
)

// Fakes of the optional features, with canned answers: the real services
// are driven by the browser tests (e2e/portal_test.go); these check that
// every page renders in every language and that the pages pass the right
// things on.

type fakeIBKey struct{ tickets int }

func (f *fakeIBKey) Activation(ctx context.Context, ss *sls.Session) (*Activation, error) {
	f.tickets++
	img := image.NewGray(image.Rect(0, 0, 21, 21))
	img.Set(3, 3, color.White)
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return &Activation{Code: "ABCD-EFGH-JKMN-PQRS-TVWX", QRPNG: buf.Bytes(), ExpiresAt: time.Date(2026, 11, 2, 15, 10, 0, 0, time.UTC)}, nil
}
func (f *fakeIBKey) Wake(string) (<-chan struct{}, func()) { return make(chan struct{}), func() {} }
func (f *fakeIBKey) Poke(string)                           {}

type fakeProtect struct {
	coolDown *protect.CoolDownInfo
	recorded []protect.MoneyRequest
	optOut   *bool
	ip       []string
}

func cents(v int64) *int64 { return &v }

func (f *fakeProtect) Limits(ctx context.Context, sess *sls.Session, u *sls.User) (*protect.LimitsAnswer, error) {
	return &protect.LimitsAnswer{Limit: protect.LimitInfo{DeviceKind: sess.DeviceKind, InSLS: true, CoolDown: f.coolDown},
		Day:              protect.Window{Limit: cents(20_000_000), Used: 5_000_000, Remaining: cents(15_000_000)},
		FiveBusinessDays: protect.Window{Unlimited: true}}, nil
}

func (f *fakeProtect) RecordWithdrawal(ctx context.Context, sess *sls.Session, u *sls.User, req protect.MoneyRequest) (*protect.WithdrawalAnswer, error) {
	f.recorded = append(f.recorded, req)
	ans := &protect.WithdrawalAnswer{Currency: req.Currency, Amount: req.Amount, Limit: protect.LimitInfo{DeviceKind: sess.DeviceKind}}
	if req.Amount == "999999" {
		return ans, sls.Errorf(sls.CodeLimitExceeded, "over")
	}
	ans.Allowed = true
	return ans, nil
}

func (f *fakeProtect) Participation(ctx context.Context, caller *sls.User, target string) (*protect.Participation, error) {
	return &protect.Participation{Username: caller.Username, CanChangeSecurity: caller.CanChangeSecurity, SecurityAdmins: []string{"boss"},
		OptedOut: f.optOut != nil && *f.optOut}, nil
}

func (f *fakeProtect) SetParticipation(ctx context.Context, sess *sls.Session, caller *sls.User, target string, optOut bool) (*protect.Participation, error) {
	if !caller.CanChangeSecurity {
		return nil, sls.Errorf(sls.CodeForbidden, "no").WithDetail(policy.DetailCondition, policy.CondSecurityPermission)
	}
	f.optOut = &optOut
	return f.Participation(ctx, caller, target)
}

func (f *fakeProtect) IPRestrictions(ctx context.Context, username, clientIP string) (*protect.IPRestrictionsAnswer, error) {
	yes := true
	return &protect.IPRestrictionsAnswer{Username: username, IPRestrictions: f.ip, CurrentIPAllowed: &yes}, nil
}

func (f *fakeProtect) SetIPRestrictions(ctx context.Context, actor, username string, entries []string, clientIP string) (*protect.IPRestrictionsAnswer, error) {
	f.ip = entries
	return f.IPRestrictions(ctx, username, clientIP)
}

func (f *fakeProtect) CheckSharing(ctx context.Context, usernames []string, kind sls.DeviceKind) (*protect.SharingAnswer, error) {
	if len(usernames) == 2 && usernames[1] == "twin" {
		return &protect.SharingAnswer{Allowed: true, Usernames: usernames, DeviceKind: kind}, nil
	}
	return nil, sls.Errorf(sls.CodeNotFound, "No user %q.", usernames[1])
}

type fakeLifecycle struct {
	placed []lifecycle.OrderRequest
}

func (f *fakeLifecycle) Form(ctx context.Context, sess *sls.Session, u *sls.User) (*lifecycle.OrderForm, error) {
	return &lifecycle.OrderForm{Eligibility: &lifecycle.Eligibility{Eligible: true, ThresholdUSD: 100_000_000}, ShippingAddress: "1 Main St",
		DepositAccount: u.AccountID, DepositUSD: 2000, ExpectedDelivery: "2026-11-16"}, nil
}

func (f *fakeLifecycle) summary(req lifecycle.OrderRequest) *lifecycle.Summary {
	return &lifecycle.Summary{Kind: sls.KindDSCPlus, ShippingAddress: req.ShippingAddress, DepositAccount: "ALICE1", DepositUSD: 2000,
		ExpectedDelivery: "2026-11-16", Digest: "digest-" + req.PIN}
}

func (f *fakeLifecycle) Preview(ctx context.Context, sess *sls.Session, u *sls.User, req lifecycle.OrderRequest) (*lifecycle.Summary, error) {
	if req.PIN == "1234" {
		return nil, sls.Errorf(sls.CodeNotEligible, "weak").WithDetail(policy.DetailCondition, policy.CondPINWeak)
	}
	return f.summary(req), nil
}

func (f *fakeLifecycle) Place(ctx context.Context, sess *sls.Session, u *sls.User, req lifecycle.OrderRequest) (*lifecycle.Confirmation, error) {
	f.placed = append(f.placed, req)
	return &lifecycle.Confirmation{ExpectedDelivery: "2026-11-16", DepositAccount: "ALICE1", DepositUSD: 2000}, nil
}

func (f *fakeLifecycle) StartActivation(ctx context.Context, u *sls.User, orderID string) (*lifecycle.ActivationChallenge, error) {
	return &lifecycle.ActivationChallenge{OrderID: orderID, Challenge: "123456"}, nil
}

func (f *fakeLifecycle) Activate(ctx context.Context, u *sls.User, orderID, response string) (*lifecycle.OrderView, error) {
	return &lifecycle.OrderView{}, nil
}

func (f *fakeLifecycle) ReturnAddressFor(ctx context.Context, u *sls.User) (*lifecycle.ReturnAddress, error) {
	return &lifecycle.ReturnAddress{Region: policy.RegionEurope, Address: "Token Return Department\nGubelstrasse 28\nCH-6301 Zug"}, nil
}

func (f *fakeLifecycle) SendReturn(ctx context.Context, u *sls.User, req lifecycle.ReturnRequest) (*lifecycle.ReturnAnswer, error) {
	a, _ := f.ReturnAddressFor(ctx, u)
	return &lifecycle.ReturnAnswer{ReturnAddress: a}, nil
}

func (f *fakeLifecycle) ConfirmDestroyed(ctx context.Context, u *sls.User, deviceID string, confirm bool) (*sls.Device, error) {
	return &sls.Device{ID: deviceID}, nil
}

type featureHarness struct {
	*harness
	ibkey *fakeIBKey
	prot  *fakeProtect
	life  *fakeLifecycle
}

func newFeatureHarness(t *testing.T) *featureHarness {
	f := &featureHarness{ibkey: &fakeIBKey{}, prot: &fakeProtect{}, life: &fakeLifecycle{}}
	f.harness = newHarnessWith(t, Config{}, false, func(d *Deps) { d.IBKey, d.Protect, d.Lifecycle = f.ibkey, f.prot, f.life })
	return f
}

// loggedIn is a browser logged in with a DSC+.
func (h *harness) loggedIn(user string, key []byte) *browser {
	h.t.Helper()
	b := h.browser()
	pg := b.follow(b.loginPassword(user))
	resp, _ := dscplus.Respond(key, "4321", pg.textOf("challenge"))
	if p := b.post("/login/answer", url.Values{"response": {resp}}); p.status != http.StatusSeeOther {
		h.t.Fatalf("login: %d\n%s", p.status, p.body)
	}
	return b
}

// untranslated catches a key shown instead of its text, and a broken verb.
var untranslated = regexp.MustCompile(`>\s*(?:[a-z]+\.)+[a-z_]+\s*<|%!`)

func TestEveryPageInEveryLanguage(t *testing.T) {
	h := newFeatureHarness(t)
	h.user("alice")
	b := h.loggedIn("alice", h.dscCard("alice"))
	pages := []string{"/", "/ibkey", "/settings/security", "/settings/onlinecard", "/settings/sessions", "/withdraw",
		"/settings/dscplus", "/settings/returns"}
	for _, lang := range []string{"en", "es", "zh-Hans", "hu"} {
		b.get("/")
		if p := b.post("/lang", url.Values{"lang": {lang}}); p.status != http.StatusSeeOther {
			t.Fatalf("switch to %s: %d", lang, p.status)
		}
		for _, path := range pages {
			p := b.get(path)
			if p.status != 200 || !strings.Contains(p.body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: %d\n%.400s", lang, path, p.status, p.body)
				continue
			}
			checkLabels(t, p.body)
			if m := untranslated.FindString(p.body); m != "" {
				t.Errorf("%s %s shows %q", lang, path, m)
			}
			if strings.Contains(p.body, "style=") {
				t.Errorf("%s %s has an inline style", lang, path)
			}
		}
	}
}

func TestFeaturePagesPassThrough(t *testing.T) {
	h := newFeatureHarness(t)
	h.user("alice")
	b := h.loggedIn("alice", h.dscCard("alice"))

	// The banner: the QR image inline as a data: URL, the string under it.
	home := b.get("/")
	if !strings.Contains(home.body, `src="data:image/png;base64,`) || !strings.Contains(home.body, "ABCD-EFGH-JKMN-PQRS-TVWX") {
		t.Fatalf("banner:\n%s", home.body)
	}

	// Withdrawal: the request id makes a double submission one booking.
	b.get("/withdraw")
	rid := attr(b.last.body, "request_id", "value")
	// Each form answers with a redirect to its page (post/redirect/get).
	if ok := b.follow(b.post("/withdraw", url.Values{"amount": {"2500"}, "currency": {"USD"}, "request_id": {rid}})); ok.status != http.StatusOK ||
		!strings.Contains(ok.body, `role="status"`) {
		t.Fatalf("withdraw: %d\n%s", ok.status, ok.body)
	}
	if len(h.prot.recorded) != 1 || h.prot.recorded[0].RequestID != rid || h.prot.recorded[0].Amount != "2500" {
		t.Fatalf("recorded %+v", h.prot.recorded)
	}
	if over := b.follow(b.post("/withdraw", url.Values{"amount": {"999999"}, "currency": {"USD"}})); over.status != http.StatusUnprocessableEntity ||
		!strings.Contains(over.body, "over the limit") || !strings.Contains(over.body, `value="999999"`) {
		t.Fatalf("over the limit: %d\n%s", over.status, over.body)
	}
	if again := b.get("/withdraw"); again.status != http.StatusOK || strings.Contains(again.body, "over the limit") {
		t.Fatalf("the refusal outlived its page: %d", again.status)
	}

	// A cool-down after a security change: the page says which and until when.
	h.prot.coolDown = &protect.CoolDownInfo{Change: "device_added", Since: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), Until: time.Date(2026, 3, 5, 15, 0, 0, 0, time.UTC)}
	if w := b.get("/withdraw"); !strings.Contains(w.body, `id="limit-cool-down"`) || !strings.Contains(w.body, "a new security device") ||
		!strings.Contains(w.body, `<time datetime="2026-03-05T15:00:00Z"`) || !strings.Contains(w.body, "15:00 UTC") {
		t.Fatalf("cool-down not shown:\n%s", w.body)
	}
	h.prot.coolDown = nil

	// Opting out needs the box ticked, and the permission (others see who has it).
	b.get("/settings/security")
	if p := b.follow(b.post("/settings/security/opt-out", nil)); p.status != http.StatusBadRequest {
		t.Fatalf("opt-out without the box: %d", p.status)
	}
	if p := b.follow(b.post("/settings/security/opt-out", url.Values{"understand": {"on"}})); p.status != http.StatusForbidden || !strings.Contains(p.body, "boss") {
		t.Fatalf("opt-out without permission: %d", p.status)
	}

	// IP restrictions: one per line.
	if p := b.post("/settings/security/ip", url.Values{"ip_restrictions": {"203.0.113.7\r\n198.51.100.0/24\r\n"}}); p.status != http.StatusSeeOther {
		t.Fatalf("ip: %d", p.status)
	}
	if len(h.prot.ip) != 2 || h.prot.ip[1] != "198.51.100.0/24" {
		t.Fatalf("ip restrictions %v", h.prot.ip)
	}

	// Sharing: an unknown username gets the same answer as another person's.
	b.get("/settings/security")
	p := b.follow(b.post("/settings/security/sharing", url.Values{"usernames": {"stranger"}, "kind": {"dscplus"}}))
	if !strings.Contains(p.body, "must all belong to you") || strings.Contains(p.body, "stranger&#34;") || strings.Contains(p.body, `No user`) {
		t.Fatalf("sharing with an unknown user:\n%s", p.body)
	}
	if p := b.follow(b.post("/settings/security/sharing", url.Values{"usernames": {"twin"}, "kind": {"dscplus"}})); !strings.Contains(p.body, "can share") {
		t.Fatalf("sharing allowed:\n%s", p.body)
	}

	// Ordering: a weak PIN is refused with its reason; the summary's draft
	// carries the PIN sealed, and only for this session.
	b.get("/settings/dscplus")
	if p := b.follow(b.post("/settings/dscplus/summary", url.Values{"address": {"1 Main St"}, "pin": {"1234"}, "pin_again": {"1234"}})); !strings.Contains(p.body, "too easy") ||
		!strings.Contains(p.body, "1 Main St") {
		t.Fatalf("weak PIN:\n%s", p.body)
	}
	b.get("/settings/dscplus")
	if p := b.follow(b.post("/settings/dscplus/summary", url.Values{"address": {"1 Main St"}, "pin": {"5190"}, "pin_again": {"5191"}})); !strings.Contains(p.body, "differ") ||
		strings.Contains(p.body, "5190") {
		t.Fatalf("different PINs:\n%s", p.body)
	}
	b.get("/settings/dscplus")
	sum := b.follow(b.post("/settings/dscplus/summary", url.Values{"address": {"2 Side St"}, "pin": {"5190"}, "pin_again": {"5190"}}))
	draft := attr(sum.body, "draft", "value")
	if sum.status != 200 || draft == "" || strings.Contains(sum.body, "5190") {
		t.Fatalf("summary (%d) shows the PIN or lacks the draft:\n%s", sum.status, sum.body)
	}
	back := b.follow(b.post("/settings/dscplus/back", url.Values{"draft": {draft}}))
	if !strings.Contains(back.body, "2 Side St") {
		t.Fatalf("Back lost the address:\n%s", back.body)
	}
	h.user("bob")
	other := h.loggedIn("bob", h.dscCard("bob"))
	other.get("/")
	if p := other.follow(other.post("/settings/dscplus/place", url.Values{"draft": {draft}})); p.status != http.StatusBadRequest || len(h.life.placed) != 0 {
		t.Fatalf("another session placed the draft: %d", p.status)
	}
	b.last = sum
	placed := b.follow(b.post("/settings/dscplus/place", url.Values{"draft": {draft}}))
	if placed.status != http.StatusOK || !strings.Contains(placed.body, `id="expected-delivery"`) || len(h.life.placed) != 1 || h.life.placed[0].PIN != "5190" || h.life.placed[0].Summary != "digest-5190" {
		t.Fatalf("place: %d %+v", placed.status, h.life.placed)
	}
}
