package protect

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/policy"
)

// PennyStock is the state of the penny-stock / Pink Sheet / OTCBB trading
// permission (SPEC §5).
type PennyStock struct {
	// Requested is whether the user holds the permission; Effective
	// whether it is in force now (an opted-out user needs IP restrictions).
	Requested bool   `json:"requested"`
	Effective bool   `json:"effective"`
	Condition string `json:"condition,omitempty"`
	Message   string `json:"message,omitempty"`
}

func pennyStock(u *sls.User, p *sls.ProtectionSettings) PennyStock {
	ps := PennyStock{Requested: p.PennyStock}
	allowed := policy.PennyStockAllowed(u.OptedOut, len(p.IPRestrictions) > 0)
	ps.Effective = ps.Requested && allowed
	if !allowed {
		ps.Condition = CondIPRestrictionsRequired
		ps.Message = "Users who opted out of the Secure Login System may trade penny stocks only with IP restrictions set."
	}
	return ps
}

// Participation is a user's SLS participation and the settings that go
// with it.
type Participation struct {
	Username          string `json:"username"`
	OptedOut          bool   `json:"opted_out"`
	Always2FA         bool   `json:"always_2fa"`
	CanChangeSecurity bool   `json:"can_change_security"`
	Jurisdiction      string `json:"jurisdiction"`
	// Mandates2FA: the account's jurisdiction requires 2FA (no opt-out).
	Mandates2FA bool `json:"mandates_2fa"`
	// SecurityAdmins are the account's users who may change security
	// settings (SPEC §5: others see which users have it).
	SecurityAdmins []string   `json:"security_admins"`
	IPRestrictions []string   `json:"ip_restrictions"`
	PennyStock     PennyStock `json:"penny_stock"`
	// Changed is set by opt-out/opt-in: false when nothing had to change.
	Changed *bool `json:"changed,omitempty"`
}

func (s *Service) mandated() []string {
	if s.Config.Mandated2FA == nil {
		return policy.DefaultMandated2FA
	}
	return s.Config.Mandated2FA
}

func (s *Service) participation(ctx context.Context, tx sls.Tx, u *sls.User, a *sls.Account) (*Participation, error) {
	p, err := tx.ProtectionSettings(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	admins, err := securityAdmins(ctx, tx, u.AccountID)
	if err != nil {
		return nil, err
	}
	// A mandate is exactly what makes CanOptOut refuse with that condition.
	mandates := false
	var e *sls.Error
	if errors.As(policy.CanOptOut(policy.Actor{HasSecurityPermission: true}, a.Jurisdiction, s.mandated()), &e) {
		mandates = e.Detail[policy.DetailCondition] == policy.CondJurisdictionMandates2FA
	}
	return &Participation{Username: u.Username, OptedOut: u.OptedOut, Always2FA: u.Always2FA, CanChangeSecurity: u.CanChangeSecurity,
		Jurisdiction: a.Jurisdiction, Mandates2FA: mandates, SecurityAdmins: admins, IPRestrictions: p.IPRestrictions,
		PennyStock: pennyStock(u, p)}, nil
}

func securityAdmins(ctx context.Context, tx sls.Tx, accountID string) ([]string, error) {
	users, err := tx.UsersByAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, u := range users {
		if u.CanChangeSecurity {
			out = append(out, u.Username)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Participation returns the participation of the user named target (the
// caller itself when empty), who must be on the caller's account.
func (s *Service) Participation(ctx context.Context, caller *sls.User, target string) (*Participation, error) {
	var out *Participation
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		u, err := s.sameAccount(ctx, tx, caller, target)
		if err != nil {
			return err
		}
		a, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		out, err = s.participation(ctx, tx, u, a)
		return err
	})
	return out, err
}

// ParticipationOf is Participation for operators.
func (s *Service) ParticipationOf(ctx context.Context, username string) (*Participation, error) {
	var out *Participation
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		u, err := manage.LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		a, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		out, err = s.participation(ctx, tx, u, a)
		return err
	})
	return out, err
}

// sameAccount finds the user named target among the caller's account's
// users; empty means the caller. A user of another account is "not found"
// (its existence is none of the caller's business).
func (s *Service) sameAccount(ctx context.Context, tx sls.Tx, caller *sls.User, target string) (*sls.User, error) {
	if target == "" || target == caller.Username || target == caller.ID {
		return tx.User(ctx, caller.ID)
	}
	u, err := manage.LookupUser(ctx, tx, target)
	if err != nil || u.AccountID != caller.AccountID {
		return nil, sls.Errorf(sls.CodeNotFound, "No user %q on your account.", target)
	}
	return u, nil
}

// SetParticipation opts the user named target (the caller when empty) out
// of SLS (optOut) or back in (SPEC §5). Only a caller with the permission
// to change security settings may; others are told who has it. Residents
// of a jurisdiction that mandates 2FA cannot opt out. Opting back in sets
// "Always use my secure login device at login".
func (s *Service) SetParticipation(ctx context.Context, sess *sls.Session, caller *sls.User, target string, optOut bool) (*Participation, error) {
	now := s.now()
	var out *Participation
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		actorUser, err := tx.User(ctx, caller.ID) // the permission as it is now, not as the session saw it
		if err != nil {
			return err
		}
		u, err := s.sameAccount(ctx, tx, actorUser, target)
		if err != nil {
			return err
		}
		if u, err = tx.UserForUpdate(ctx, u.ID); err != nil {
			return err
		}
		a, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		actor := policy.Actor{HasSecurityPermission: actorUser.CanChangeSecurity}
		var p policy.Participation
		if optOut {
			p, err = policy.OptOut(actor, a.Jurisdiction, s.mandated())
		} else {
			p, err = policy.OptIn(actor)
		}
		var e *sls.Error
		if errors.As(err, &e) && e.Detail[policy.DetailCondition] == policy.CondSecurityPermission {
			admins, aerr := securityAdmins(ctx, tx, a.ID)
			if aerr != nil {
				return aerr
			}
			return policy.PermissionRequired(admins)
		}
		if err != nil {
			return err
		}
		changed := u.OptedOut != p.OptedOut || u.Always2FA != p.Always2FA
		if changed {
			u.OptedOut, u.Always2FA = p.OptedOut, p.Always2FA
			if err := tx.PutUser(ctx, u); err != nil {
				return err
			}
			event := EventOptedIn
			if optOut {
				event = EventOptedOut
			}
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(actorUser.ID), event, u.ID, "",
				map[string]any{"username": u.Username, "by": actorUser.Username, "jurisdiction": a.Jurisdiction, "session_id": sess.ID}); err != nil {
				return err
			}
		}
		if out, err = s.participation(ctx, tx, u, a); err != nil {
			return err
		}
		out.Changed = &changed
		return nil
	})
	return out, err
}

// IPRestrictionsAnswer is a user's IP restrictions after a change.
type IPRestrictionsAnswer struct {
	Username       string     `json:"username"`
	IPRestrictions []string   `json:"ip_restrictions"`
	PennyStock     PennyStock `json:"penny_stock"`
	// CurrentIPAllowed says whether the address of this request could log
	// in to a trading platform under the restrictions (users only).
	CurrentIPAllowed *bool `json:"current_ip_allowed,omitempty"`
}

// ParseStoredRestrictions reads the normalised restrictions kept in the
// store; an unreadable entry is an error, and the caller fails closed.
func ParseStoredRestrictions(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// IPRestrictions returns the user's restrictions; clientIP, when set, is
// checked against them.
func (s *Service) IPRestrictions(ctx context.Context, username, clientIP string) (*IPRestrictionsAnswer, error) {
	var out *IPRestrictionsAnswer
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		u, err := manage.LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		p, err := tx.ProtectionSettings(ctx, u.ID)
		if err != nil {
			return err
		}
		out = ipAnswer(u, p, clientIP)
		return nil
	})
	return out, err
}

func ipAnswer(u *sls.User, p *sls.ProtectionSettings, clientIP string) *IPRestrictionsAnswer {
	a := &IPRestrictionsAnswer{Username: u.Username, IPRestrictions: p.IPRestrictions, PennyStock: pennyStock(u, p)}
	if clientIP != "" {
		prefixes, err := ParseStoredRestrictions(p.IPRestrictions)
		addr, _ := netip.ParseAddr(clientIP)
		ok := err == nil && policy.IPAllowed(prefixes, addr)
		a.CurrentIPAllowed = &ok
	}
	return a
}

// SetIPRestrictions replaces the trading-platform IP restrictions of the
// user named username (SPEC §5); an empty list removes them. actor is who
// acts (the user itself, or an operator for support); clientIP is the
// caller's address for the answer's current_ip_allowed ("" for operators).
func (s *Service) SetIPRestrictions(ctx context.Context, actor, username string, entries []string, clientIP string) (*IPRestrictionsAnswer, error) {
	if len(entries) > 100 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "At most 100 IP restrictions may be set.")
	}
	prefixes, err := policy.ParseIPRestrictions(entries)
	if err != nil {
		return nil, err
	}
	list := make([]string, len(prefixes))
	for i, p := range prefixes {
		list[i] = p.String()
	}
	now := s.now()
	var out *IPRestrictionsAnswer
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := manage.LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		if u, err = tx.UserForUpdate(ctx, u.ID); err != nil {
			return err
		}
		p, err := tx.ProtectionSettings(ctx, u.ID)
		if err != nil {
			return err
		}
		before := p.IPRestrictions
		p.IPRestrictions, p.UpdatedAt = list, now
		if err := tx.PutProtectionSettings(ctx, p); err != nil {
			return err
		}
		out = ipAnswer(u, p, clientIP)
		return sls.Audit(ctx, tx, now, actor, EventIPRestrictions, u.ID, "",
			map[string]any{"username": u.Username, "before": before, "after": list})
	})
	return out, err
}

// SetPennyStock grants or gives up the penny-stock trading permission of
// the session's user. Granting is refused for an opted-out user without IP
// restrictions (SPEC §5).
func (s *Service) SetPennyStock(ctx context.Context, sess *sls.Session, caller *sls.User, enabled bool) (*PennyStock, error) {
	now := s.now()
	var out PennyStock
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, caller.ID)
		if err != nil {
			return err
		}
		p, err := tx.ProtectionSettings(ctx, u.ID)
		if err != nil {
			return err
		}
		if enabled && !policy.PennyStockAllowed(u.OptedOut, len(p.IPRestrictions) > 0) {
			return sls.Errorf(sls.CodeNotEligible,
				"Users who opted out of the Secure Login System may trade penny stocks only with IP restrictions set: add IP restrictions first, or opt back in.").
				WithDetail(policy.DetailCondition, CondIPRestrictionsRequired)
		}
		if p.PennyStock != enabled {
			p.PennyStock, p.UpdatedAt = enabled, now
			if err := tx.PutProtectionSettings(ctx, p); err != nil {
				return err
			}
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventPennyStock, u.ID, "",
				map[string]any{"enabled": enabled, "opted_out": u.OptedOut, "ip_restrictions": len(p.IPRestrictions)}); err != nil {
				return err
			}
		}
		out = pennyStock(u, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PennyStockOf returns the penny-stock permission of a user (integrators
// ask it with the user's session).
func (s *Service) PennyStockOf(ctx context.Context, userID string) (*PennyStock, error) {
	var out PennyStock
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		p, err := tx.ProtectionSettings(ctx, u.ID)
		if err != nil {
			return err
		}
		out = pennyStock(u, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// normUsernames trims and deduplicates usernames, keeping the order.
func normUsernames(names []string) []string {
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
