package protect

import (
	"context"
	"net/netip"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/policy"
)

// Gate adds the IP restrictions of SPEC §5 to the login: a trading-platform
// login of a user with restrictions must come from one of the listed
// addresses or networks, second factor or not (an opted-out user's
// password-only login included). It wraps the gate before it, which decides
// everything else (closed accounts, opt-out). The login service audits a
// refusal as login.refused with reason ip_not_allowed and the address.
type Gate struct {
	Next login.Gate // nil: login.BasicGate
}

// Admit implements login.Gate.
func (g Gate) Admit(ctx context.Context, tx sls.Tx, u *sls.User, a *sls.Account, p sls.Platform, clientIP string, now time.Time) (bool, sls.Scope, error) {
	next := g.Next
	if next == nil {
		next = login.BasicGate{}
	}
	need, scope, err := next.Admit(ctx, tx, u, a, p, clientIP, now)
	if err != nil || p != sls.PlatformTrading {
		return need, scope, err
	}
	settings, err := tx.ProtectionSettings(ctx, u.ID)
	if err != nil {
		return false, "", err
	}
	if len(settings.IPRestrictions) == 0 {
		return need, scope, nil
	}
	prefixes, perr := ParseStoredRestrictions(settings.IPRestrictions)
	addr, _ := netip.ParseAddr(clientIP)
	if perr != nil || !policy.IPAllowed(prefixes, addr) {
		// Fail closed: an unreadable stored restriction refuses too.
		return false, "", sls.Errorf(sls.CodeIPNotAllowed,
			"Trading-platform logins of this user are allowed only from the IP addresses it registered; this login came from %s. Change the IP restrictions in the Client Portal or contact Client Services.", clientIP).
			WithDetail("ip", clientIP)
	}
	return need, scope, nil
}

var _ login.Gate = Gate{}
