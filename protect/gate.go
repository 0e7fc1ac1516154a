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
	if err := checkIP(ctx, tx, u.ID, clientIP, "login"); err != nil {
		return false, "", err
	}
	return need, scope, nil
}

// checkIP applies the user's IP restrictions to clientIP: nil when the
// user has none or the address is on the list, else ip_not_allowed. what
// names what is refused ("login", "session") in the message.
func checkIP(ctx context.Context, tx sls.Tx, userID, clientIP, what string) error {
	settings, err := tx.ProtectionSettings(ctx, userID)
	if err != nil {
		return err
	}
	if len(settings.IPRestrictions) == 0 {
		return nil
	}
	prefixes, perr := ParseStoredRestrictions(settings.IPRestrictions)
	addr, _ := netip.ParseAddr(clientIP)
	if perr != nil || !policy.IPAllowed(prefixes, addr) {
		// Fail closed: an unreadable stored restriction refuses too.
		return sls.Errorf(sls.CodeIPNotAllowed,
			"Trading-platform %ss of this user are allowed only from the IP addresses it registered; this %s came from %s. Change the IP restrictions in the Client Portal or contact Client Services.", what, what, clientIP).
			WithDetail("ip", clientIP)
	}
	return nil
}

// SessionGate holds the IP restrictions for the whole of a trading-platform
// session, not only its login (SPEC §5): a session used from an address off
// the list is refused with ip_not_allowed, and the login service audits it
// as session.refused. The session is not ended: the user may come back
// from an allowed address. Restrictions added after the login apply at
// once, because they are read on every use.
type SessionGate struct{}

// CheckSession implements login.SessionGate.
func (SessionGate) CheckSession(ctx context.Context, tx sls.Tx, s *sls.Session, _ *sls.User, clientIP string, _ time.Time) error {
	if s.Platform != sls.PlatformTrading {
		return nil
	}
	return checkIP(ctx, tx, s.UserID, clientIP, "session")
}

var _ login.SessionGate = SessionGate{}

var _ login.Gate = Gate{}
