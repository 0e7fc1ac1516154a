package delivery

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
)

// FTP report access.
//
// A client's FTP password is generated here, shown once to the operator
// who asked for it, and stored only as an Argon2id hash. It is checked
// under the password login's own protections: the per-address and
// per-(address, username) rate limits shared by every node, the node's
// bound on concurrent hashing, and the hold-off rule (sls.HoldOff)
// counted on the client's row. An unknown username costs the same hash.

// ErrFTPRefused is what AuthenticateFTP returns, wrapped with the reason
// for the audit trail, whenever it does not admit the login. The FTP
// client is told nothing more than "login incorrect".
var ErrFTPRefused = errors.New("ftp login refused")

// FTPAccess is what an admitted FTP login may do.
type FTPAccess struct {
	Username string
	Allowed  []netip.Prefix
	// QuotaBytes and QuotaEntries bound the client's folder.
	QuotaBytes, QuotaEntries int64
	// PlainAllowed: the client may work without TLS (its operator allowed
	// it, and it has an OpenPGP key, so its statements are encrypted).
	PlainAllowed bool
}

// FTPGuard is how FTP passwords are checked, from the login's rules.
type FTPGuard struct {
	Limiter *ratelimit.Limiter // nil: no rate limit
	Hashing *passhash.Gate     // nil: unbounded
	Argon   passhash.Params
	// Burst, HoldOff and MaxFailures are the login's untrusted_burst,
	// untrusted_hold_off and max_password_failures.
	Burst       int
	HoldOff     time.Duration
	MaxFailures int
}

func refusedFTP(reason string) error { return fmt.Errorf("%w: %s", ErrFTPRefused, reason) }

// The password is crypto/rand.Text, 26 characters of
// base32 (130 bits), typed once into a client's configuration. NIST SP
// 800-63B §5.1.1.2 asks at least 6 random characters of a verifier-chosen
// secret; a machine account's password is never typed again, so length
// costs nothing.

// AuthenticateFTP checks an FTP login from addr. Every refusal wraps
// ErrFTPRefused; other errors are the store's.
func (s *Service) AuthenticateFTP(ctx context.Context, username, password string, addr netip.Addr) (*FTPAccess, error) {
	g := s.ftpGuard
	username = normalizeSFTPUsername(username)
	// The login's rate limits, counted on wrong passwords only: an FTP
	// client is a program that logs in for each transfer, and a right
	// password must not use up its budget; a guesser's every try is a
	// wrong one. The hashing gate bounds the work of right ones.
	key := addr.Unmap().String()
	limits := []struct{ rule, key string }{
		{ratelimit.PasswordAddress, ratelimit.AddressKey(key)},
		{ratelimit.PasswordAccount, ratelimit.AccountKey(key, username)},
	}
	for _, l := range limits {
		if err := g.Limiter.Peek(ctx, l.rule, l.key); sls.ErrorCode(err) == sls.CodeRateLimited {
			return nil, refusedFTP("rate limited (" + l.rule + ")")
		} else if err != nil {
			return nil, err
		}
	}
	countFailure := func() error {
		for _, l := range limits {
			if err := g.Limiter.Take(ctx, l.rule, l.key); err != nil && sls.ErrorCode(err) != sls.CodeRateLimited {
				return err
			}
		}
		return nil
	}
	var c *sls.SFTPClient
	var nets []netip.Prefix
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		if c, err = tx.SFTPClient(ctx, username); err != nil {
			return err
		}
		nets, err = tx.SFTPNetworks(ctx, username)
		return err
	})
	switch {
	case errors.Is(err, sls.ErrNotFound):
		c = nil
	case err != nil:
		return nil, err
	}
	hash := s.dummyHash
	usable := c != nil && c.Enabled && c.FTPEnabled()
	if usable {
		hash = c.FTPPasswordHash
	}
	if g.Hashing != nil {
		release, err := g.Hashing.Enter(ctx)
		if err != nil {
			return nil, refusedFTP("password checks busy")
		}
		defer release()
	}
	ok, _, herr := passhash.Check([]byte(password), hash, g.Argon)
	if herr != nil {
		s.Log.ErrorContext(ctx, "ftp: stored password hash unreadable", "client", username, "err", herr)
		ok = false
	}
	now := s.Clock.Now()
	if !usable || !ok {
		if err := countFailure(); err != nil {
			return nil, err
		}
	}
	switch {
	case !usable:
		return nil, refusedFTP("unknown client or no FTP access")
	case now.Before(c.FTPHeldUntil):
		// Held off: the right and the wrong password get the same answer.
		return nil, refusedFTP("held off after wrong passwords")
	case !ok:
		return nil, s.countFTPFailure(ctx, username, now)
	case !addrListed(nets, addr):
		return nil, refusedFTP("address not on the client's allow-list")
	}
	if c.FTPFailures > 0 {
		err := s.Store.Update(ctx, func(tx sls.Tx) error {
			c, err := tx.SFTPClientForUpdate(ctx, username)
			if err != nil {
				return err
			}
			c.FTPFailures = 0
			return tx.PutSFTPClient(ctx, c)
		})
		if err != nil {
			return nil, err
		}
	}
	return &FTPAccess{Username: c.Username, Allowed: nets, QuotaBytes: s.quotaOf(c), QuotaEntries: s.cfg.QuotaFiles,
		PlainAllowed: c.FTPPlainInForce()}, nil
}

// countFTPFailure counts a wrong password on the client's row and starts
// a hold-off when the rule says so. It returns the refusal.
func (s *Service) countFTPFailure(ctx context.Context, username string, now time.Time) error {
	g := s.ftpGuard
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := tx.SFTPClientForUpdate(ctx, username)
		if err != nil {
			return err
		}
		c.FTPFailures++
		d := sls.HoldOff(c.FTPFailures, g.Burst, g.HoldOff, g.MaxFailures)
		if d > 0 {
			c.FTPHeldUntil = now.Add(d)
		}
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		if d == 0 {
			return nil
		}
		s.Log.WarnContext(ctx, "ftp: client held off after wrong passwords", "client", c.Username, "failures", c.FTPFailures, "until", c.FTPHeldUntil)
		return sls.Audit(ctx, tx, now, sls.ActorSystem, sls.EventFTPHeldOff, c.UserID, "", map[string]any{
			"client": c.Username, "failures": c.FTPFailures, "until": c.FTPHeldUntil, "max_password_failures": g.MaxFailures,
		})
	})
	if err != nil {
		return err
	}
	return refusedFTP("wrong password")
}

func addrListed(allowed []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range allowed {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// newFTPPassword generates a password and its hash, inside the hashing
// gate the logins share.
func (s *Service) newFTPPassword(ctx context.Context) (password, hash string, err error) {
	password = rand.Text()
	hash, err = s.ftpGuard.Hashing.Hash(ctx, []byte(password), s.ftpGuard.Argon)
	return password, hash, err
}

// ftpPasswordAnswer is the one time the password is shown.
type ftpPasswordAnswer struct {
	Client   string `json:"client"`
	Password string `json:"password"`
	Warning  string `json:"warning"`
}

// opFTPPassword gives a client FTP access with a new generated password,
// replacing any earlier one, and clears its hold-off: a new password is
// the operator's answer to a client locked out by guessing.
func (s *Service) opFTPPassword(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	if err := httpapi.NoBody(w, r); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	password, hash, err := s.newFTPPassword(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	ctx := r.Context()
	now := s.Clock.Now()
	var client string
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := lockClient(ctx, tx, r)
		if err != nil {
			return err
		}
		replaced := c.FTPEnabled()
		c.FTPPasswordHash, c.FTPFailures, c.FTPHeldUntil, c.UpdatedAt = hash, 0, time.Time{}, now
		client = c.Username
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventFTPPasswordSet, c.UserID, "",
			map[string]any{"client": c.Username, "replaced": replaced})
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, ftpPasswordAnswer{Client: client, Password: password,
		Warning: "This password is shown once and is not stored: give it to the client over a channel other than the one that carries the username. A new one replaces it (slsctl sftp ftp password)."})
}

// opFTPRemove ends a client's FTP access; SFTP is not affected.
func (s *Service) opFTPRemove(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	s.updateSFTPClient(a, w, r, func(ctx context.Context, tx sls.Tx, c *sls.SFTPClient, now time.Time) error {
		if !c.FTPEnabled() && !c.FTPPlain {
			return nil
		}
		c.FTPPasswordHash, c.FTPPlain, c.FTPFailures, c.FTPHeldUntil, c.UpdatedAt = "", false, 0, time.Time{}, now
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventFTPAccessRemoved, c.UserID, "", map[string]any{"client": c.Username})
	})
}

type ftpPlainBody struct {
	Allowed *bool `json:"allowed" required:"true"`
}

// opFTPPlain allows or forbids plain FTP (no TLS) for a client. Allowing
// it needs the client's OpenPGP key: the files then cross the network
// encrypted even when the connection is not. Removing the key later takes
// the permission out of force (FTPPlainInForce) without a second step.
func (s *Service) opFTPPlain(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var b ftpPlainBody
	if err := httpapi.Decode(w, r, &b); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	if b.Allowed == nil {
		httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeInvalidArgument, "allowed is required (true or false)."))
		return
	}
	s.updateSFTPClient(a, w, r, func(ctx context.Context, tx sls.Tx, c *sls.SFTPClient, now time.Time) error {
		if *b.Allowed && c.PGPKey == "" {
			return sls.Errorf(sls.CodeConflict, "Plain FTP is allowed only for a client whose files are encrypted: register its OpenPGP key first (slsctl sftp pgp set %s FILE).", c.Username).
				WithDetail("reason", "no_pgp_key")
		}
		if c.FTPPlain == *b.Allowed {
			return nil
		}
		c.FTPPlain, c.UpdatedAt = *b.Allowed, now
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventFTPPlainSet, c.UserID, "",
			map[string]any{"client": c.Username, "allowed": c.FTPPlain, "pgp_fingerprint": c.PGPFingerprint})
	})
}

// ftpView is the FTP part of a client's view.
type ftpView struct {
	Enabled      bool      `json:"enabled"`
	Plain        bool      `json:"plain"`
	PlainInForce bool      `json:"plain_in_force"`
	Failures     int       `json:"failures"`
	HeldUntil    time.Time `json:"held_until,omitzero"`
}

func ftpViewOf(c *sls.SFTPClient) *ftpView {
	return &ftpView{Enabled: c.FTPEnabled(), Plain: c.FTPPlain, PlainInForce: c.FTPPlainInForce(), Failures: c.FTPFailures, HeldUntil: c.FTPHeldUntil}
}

// ftpWarnings lists what the operator should know of a client's FTP access.
func (v *ftpView) warnings(now time.Time) []string {
	var out []string
	if v.Plain && !v.PlainInForce {
		out = append(out, "Plain FTP was allowed but the client has no OpenPGP key now, so it must use FTPS until a key is registered.")
	}
	if now.Before(v.HeldUntil) {
		out = append(out, fmt.Sprintf("FTP logins are held off after %d wrong passwords, until %s; a new password (slsctl sftp ftp password) ends the hold-off.",
			v.Failures, v.HeldUntil.UTC().Format(time.RFC3339)))
	}
	return out
}
