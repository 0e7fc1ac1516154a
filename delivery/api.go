package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/dustin/go-humanize"
	"golang.org/x/crypto/ssh"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/sftpd"
	"github.com/secure-login-system/sls/sshkey"
	"github.com/secure-login-system/sls/statement"
)

// Limits of the operator API for SFTP clients.
const (
	// maxKeysPerRequest and maxAllowEntries keep one request's work small;
	// a client has a key or two and an address or a few.
	maxKeysPerRequest = 20
	maxAllowEntries   = 100
	// minIPv4Bits and minIPv6Bits bound how wide an allow-list entry may
	// be: an allow-list that admits a sizeable part of the Internet is
	// not one. /16 covers a large organisation's IPv4 network; /32 is the
	// smallest allocation an RIR makes to a provider (RIPE-738 §5.1.2), so
	// anything wider is several providers.
	minIPv4Bits = 16
	minIPv6Bits = 32
	// maxQuotaBytes bounds a client's quota (1 PiB): far above any disk a
	// node has, and far below where byte counts could overflow.
	maxQuotaBytes = 1 << 50
)

// Routes declares the operator endpoints of statement delivery.
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	h := func(fn func(a *httpapi.API, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { fn(a, w, r) }
	}
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/ops/sftp/server", sls.ForRoles(sls.RoleReporting, sls.RoleAuditor), h(s.opSFTPServer)),
		httpapi.Declare("GET /api/v1/ops/sftp/clients", sls.ForRoles(sls.RoleReporting, sls.RoleAuditor), h(s.opSFTPList)),
		httpapi.Declare("POST /api/v1/ops/sftp/clients", sls.ForRoles(sls.RoleReporting), h(s.opSFTPRegister)),
		httpapi.Declare("GET /api/v1/ops/sftp/clients/{client}", sls.ForRoles(sls.RoleReporting, sls.RoleAuditor), h(s.opSFTPShow)),
		httpapi.Declare("POST /api/v1/ops/sftp/clients/{client}/keys", sls.ForRoles(sls.RoleReporting), h(s.opSFTPAddKey)),
		httpapi.Declare("DELETE /api/v1/ops/sftp/clients/{client}/keys/{id}", sls.ForRoles(sls.RoleReporting), h(s.opSFTPRevokeKey)),
		httpapi.Declare("PUT /api/v1/ops/sftp/clients/{client}/allow", sls.ForRoles(sls.RoleReporting), h(s.opSFTPAllow)),
		httpapi.Declare("PUT /api/v1/ops/sftp/clients/{client}/quota", sls.ForRoles(sls.RoleReporting), h(s.opSFTPQuota)),
		httpapi.DeclareRaw("PUT /api/v1/ops/sftp/clients/{client}/pgp", sls.ForRoles(sls.RoleReporting), h(s.opSFTPSetPGP)),
		httpapi.Declare("DELETE /api/v1/ops/sftp/clients/{client}/pgp", sls.ForRoles(sls.RoleReporting), h(s.opSFTPRemovePGP)),
		httpapi.Declare("POST /api/v1/ops/sftp/clients/{client}/enable", sls.ForRoles(sls.RoleReporting), h(s.opSFTPEnable(true))),
		httpapi.Declare("POST /api/v1/ops/sftp/clients/{client}/disable", sls.ForRoles(sls.RoleReporting), h(s.opSFTPEnable(false))),
		httpapi.DeclareRaw("POST /api/v1/ops/sftp/clients/{client}/statements", sls.ForRoles(sls.RoleReporting), h(s.opDeliverStatement)),
		httpapi.Declare("GET /api/v1/ops/sftp/clients/{client}/statements", sls.ForRoles(sls.RoleReporting, sls.RoleAuditor), h(s.opListStatements)),
		// The client's own documents: a full session, or a closed
		// account's statements-only one (SPEC §2.4), and nothing else.
		httpapi.Declare("GET /api/v1/statements", sls.ForSession.Also(sls.ScopeStatementsOnly), h(s.listDocuments)),
		httpapi.Declare("GET /api/v1/statements/{id}", sls.ForSession.Also(sls.ScopeStatementsOnly), h(s.getDocument)),
		httpapi.Declare("POST /api/v1/ops/sftp/clients/{client}/ftp/password", sls.ForRoles(sls.RoleReporting), h(s.opFTPPassword)),
		httpapi.Declare("DELETE /api/v1/ops/sftp/clients/{client}/ftp", sls.ForRoles(sls.RoleReporting), h(s.opFTPRemove)),
		httpapi.Declare("PUT /api/v1/ops/sftp/clients/{client}/ftp/plain", sls.ForRoles(sls.RoleReporting), h(s.opFTPPlain)),
	}
}

// errSFTPOff answers requests that need this node's SFTP server.
var errSFTPOff = sls.Errorf(sls.CodeUnavailable,
	"SFTP statement delivery is switched off on this server (\"sftp\": {\"enabled\": false} in its configuration).")

// normalizeSFTPUsername is the stored form of an SFTP username: SSH
// usernames are case-sensitive and each name is a folder, so one spelling
// is kept, lower-case.
func normalizeSFTPUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validateSFTPUsername(u string) error {
	if err := statement.ValidateUsername(u); err != nil {
		return sls.Errorf(sls.CodeInvalidArgument, "The SFTP username %q cannot be used: %s (1 to 64 characters from a-z, 0-9, '.', '_' and '-', not starting with '.' or '-').",
			u, strings.TrimPrefix(err.Error(), "statement: invalid username: "))
	}
	return nil
}

// parsedKey is a key from a request with what the operator should know.
type parsedKey struct {
	key     sshkey.Key
	warning string
}

// parseKeys reads keys in any format package sshkey accepts. A PuTTY
// private key file sent by mistake yields its public part and a warning.
func parseKeys(texts []string) ([]parsedKey, error) {
	if len(texts) > maxKeysPerRequest {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "At most %d keys per request.", maxKeysPerRequest)
	}
	var out []parsedKey
	seen := map[string]int{}
	for i, t := range texts {
		k, err := sshkey.ParsePublicKey([]byte(t))
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "sshkey: ")
			e := sls.Errorf(sls.CodeInvalidArgument, "Key %d was refused: %s", i+1, msg).WithDetail("key", i+1)
			return nil, e.WithDetail("reason", keyErrorKind(err))
		}
		if j, dup := seen[k.Fingerprint]; dup {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "Keys %d and %d are the same key (%s).", j+1, i+1, k.Fingerprint)
		}
		seen[k.Fingerprint] = i
		p := parsedKey{key: k}
		if k.Format == sshkey.FormatPPK {
			p.warning = fmt.Sprintf("Key %d (%s) came as a PuTTY private key file (.ppk): only its public part was registered. "+
				"The client has sent its private key, which must now be treated as exposed: ask the client to generate a new key pair "+
				"(puttygen -t rsa -b 2048), send only the public part (puttygen -L), and then revoke this key.", i+1, k.Fingerprint)
		}
		out = append(out, p)
	}
	return out, nil
}

func keyErrorKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{sshkey.ErrWeakKey, "weak"}, {sshkey.ErrPrivateKey, "private_key"}, {sshkey.ErrUnsupported, "unsupported"},
		{sshkey.ErrBadMAC, "bad_mac"}, {sshkey.ErrMalformed, "malformed"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "malformed"
}

func newKeyRow(username string, k sshkey.Key, now time.Time) *sls.SFTPKey {
	return &sls.SFTPKey{ID: sls.NewID("sfk"), Username: username, AuthorizedKey: k.AuthorizedKey(), Fingerprint: k.Fingerprint,
		Type: k.Type, Bits: k.Bits, Format: string(k.Format), Comment: k.Comment, AddedAt: now}
}

// parseAllow reads an allow-list: single addresses (stored as /32 or
// /128) and prefixes, IPv4 or IPv6.
func parseAllow(list []string) ([]netip.Prefix, error) {
	if len(list) > maxAllowEntries {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "At most %d allow-list entries.", maxAllowEntries)
	}
	var out []netip.Prefix
	for _, raw := range list {
		e := strings.TrimSpace(raw)
		var p netip.Prefix
		if strings.Contains(e, "/") {
			var err error
			if p, err = netip.ParsePrefix(e); err != nil {
				return nil, sls.Errorf(sls.CodeInvalidArgument, "%q is not an IP address or prefix (203.0.113.7, 203.0.113.0/24, 2001:db8::/48).", raw)
			}
			if p.Addr().Is4In6() {
				bits := p.Bits() - 96
				if bits < 0 {
					return nil, sls.Errorf(sls.CodeInvalidArgument, "%q mixes IPv4 and IPv6; write the IPv4 prefix.", raw)
				}
				p = netip.PrefixFrom(p.Addr().Unmap(), bits)
			}
			if p != p.Masked() {
				return nil, sls.Errorf(sls.CodeInvalidArgument, "%q has host bits set: write %s for the network, or %s for the one address.",
					raw, p.Masked(), netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
			}
		} else {
			a, err := netip.ParseAddr(e)
			if err != nil || a.Zone() != "" {
				return nil, sls.Errorf(sls.CodeInvalidArgument, "%q is not an IP address or prefix (203.0.113.7, 203.0.113.0/24, 2001:db8::/48).", raw)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if min := map[bool]int{true: minIPv4Bits, false: minIPv6Bits}[p.Addr().Is4()]; p.Bits() < min {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "%q is too wide for an allow-list: an entry may cover at most a /%d (IPv4) or a /%d (IPv6). List the client's own addresses.",
				raw, minIPv4Bits, minIPv6Bits)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
		} else {
			out = append(out, p.String())
		}
	}
	return out
}

// sftpClientView is a client as the operator API shows it.
type sftpClientView struct {
	Username       string         `json:"username"`
	User           string         `json:"user"` // the login username of the linked user
	UserID         string         `json:"user_id"`
	AccountID      string         `json:"account_id"`
	AccountClosed  bool           `json:"account_closed"`
	Enabled        bool           `json:"enabled"`
	PGPFingerprint string         `json:"pgp_fingerprint,omitempty"`
	Keys           []*sls.SFTPKey `json:"keys"`
	Allow          []string       `json:"allow"`
	// QuotaBytes is the quota in force; QuotaDefault says it is
	// sftp.default_quota_bytes rather than the client's own.
	QuotaBytes   int64 `json:"quota_bytes"`
	QuotaDefault bool  `json:"quota_default"`
	// UsedBytes and UsedFiles are what the client's folder holds now
	// (bytes; files and folders, against sftp.quota_files), when this
	// node can read the folders.
	UsedBytes *int64 `json:"used_bytes,omitempty"`
	UsedFiles *int64 `json:"used_files,omitempty"`
	// FTP is the client's report access over FTP/FTPS; FTPPassword is
	// the generated password, in the registration's answer only.
	FTP         *ftpView  `json:"ftp"`
	FTPPassword string    `json:"ftp_password,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Warnings    []string  `json:"warnings,omitempty"`
}

func clientView(ctx context.Context, tx sls.Tx, c *sls.SFTPClient, withRevoked bool) (*sftpClientView, error) {
	v := &sftpClientView{Username: c.Username, UserID: c.UserID, Enabled: c.Enabled, PGPFingerprint: c.PGPFingerprint,
		QuotaBytes: c.QuotaBytes, FTP: ftpViewOf(c), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	u, err := tx.User(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	v.User, v.AccountID = u.Username, u.AccountID
	a, err := tx.Account(ctx, u.AccountID)
	if err != nil {
		return nil, err
	}
	v.AccountClosed = a.Closed()
	if v.Keys, err = tx.SFTPKeys(ctx, c.Username, withRevoked); err != nil {
		return nil, err
	}
	if v.Keys == nil {
		v.Keys = []*sls.SFTPKey{}
	}
	nets, err := tx.SFTPNetworks(ctx, c.Username)
	if err != nil {
		return nil, err
	}
	v.Allow = prefixStrings(nets)
	return v, nil
}

// present fills in what a view takes from outside the database: the
// quota in force and the folder's usage, read from disk outside any
// transaction.
func (s *Service) present(v *sftpClientView) {
	f := s
	if v.QuotaBytes <= 0 {
		v.QuotaBytes, v.QuotaDefault = f.cfg.DefaultQuotaBytes, true
	}
	v.Warnings = append(v.Warnings, v.FTP.warnings(s.Clock.Now())...)
	if f.enabled {
		used, err := sftpd.FolderUsage(f.cfg.Root, v.Username)
		if err != nil {
			s.Log.Warn("sftp: folder usage", "client", v.Username, "err", err)
		} else {
			v.UsedBytes, v.UsedFiles = &used.Bytes, &used.Entries
		}
	}
}

// usability lists what keeps a client from connecting, for the operator.
func (v *sftpClientView) usability() {
	active := 0
	for _, k := range v.Keys {
		if k.RevokedAt.IsZero() {
			active++
		}
	}
	if active == 0 && !v.FTP.Enabled {
		v.Warnings = append(v.Warnings, "The client has no key and no FTP password: it cannot connect until a key is added (slsctl sftp key add) or it is given FTP access (slsctl sftp ftp password); what is delivered to it reaches its user in the portal only.")
	}
	if len(v.Allow) == 0 {
		v.Warnings = append(v.Warnings, "The allow-list is empty: the client cannot connect until its addresses are set (slsctl sftp allow).")
	}
	if !v.Enabled {
		v.Warnings = append(v.Warnings, "The client is disabled.")
	}
	if v.UsedBytes != nil && *v.UsedBytes >= v.QuotaBytes {
		v.Warnings = append(v.Warnings, fmt.Sprintf("The folder is full (%s used of a %s quota): uploads and deliveries are refused until files are removed or purged, or the quota is raised (slsctl sftp quota).",
			humanize.IBytes(uint64(*v.UsedBytes)), humanize.IBytes(uint64(v.QuotaBytes))))
	}
}

// checkQuota validates a quota from a request; 0 means the default.
func checkQuota(n int64) error {
	if n < 0 || n > maxQuotaBytes {
		return sls.Errorf(sls.CodeInvalidArgument, "The quota must be between 1 byte and 1 PiB (%d bytes), or 0 for the server's default (sftp.default_quota_bytes).", int64(maxQuotaBytes))
	}
	return nil
}

func (s *Service) opSFTPServer(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"enabled": s.enabled, "retention_days": int(s.retention / (24 * time.Hour))}
	if s.enabled {
		out["root"], out["spool"] = s.cfg.Root, s.cfg.Spool
	}
	for _, srv := range s.servers {
		switch srv.Protocol {
		case "sftp":
			out["listen"] = srv.Listen
			out["host_key_fingerprint"] = sftpd.Fingerprint(srv.HostKey)
			out["host_key"] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey.PublicKey())))
		default:
			info := map[string]any{"listen": srv.Listen}
			for k, v := range srv.Extra {
				info[k] = v
			}
			out[srv.Protocol] = info
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

type sftpRegisterBody struct {
	Username string `json:"username" required:"true"`
	User     string `json:"user"` // login username or user id; default: Username
	// Keys are the client's SSH keys. A client without keys reaches its
	// folder by FTP ("ftp": true), or not at all: its documents then reach
	// its user in the portal only (a retail account's statements).
	Keys     []string `json:"keys"`
	Allow    []string `json:"allow"`
	Disabled bool     `json:"disabled"`
	// FTP gives the client FTP/FTPS access at once, with a generated
	// password shown in this answer only.
	FTP bool `json:"ftp"`
	// QuotaBytes is the client's storage quota; 0 or absent takes
	// sftp.default_quota_bytes.
	QuotaBytes int64 `json:"quota_bytes"`
}

func (s *Service) opSFTPRegister(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var b sftpRegisterBody
	if err := httpapi.Decode(w, r, &b); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	ctx := r.Context()
	username := normalizeSFTPUsername(b.Username)
	if err := validateSFTPUsername(username); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	keys, err := parseKeys(b.Keys)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	var password, hash string
	if b.FTP {
		if password, hash, err = s.newFTPPassword(r.Context()); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
	}
	nets, err := parseAllow(b.Allow)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	if err := checkQuota(b.QuotaBytes); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	userName := b.User
	if userName == "" {
		userName = username
	}
	now := s.Clock.Now()
	var view *sftpClientView
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := userByName(ctx, tx, userName)
		if err != nil {
			return err
		}
		c := &sls.SFTPClient{Username: username, UserID: u.ID, Enabled: !b.Disabled, QuotaBytes: b.QuotaBytes, FTPPasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateSFTPClient(ctx, c); err != nil {
			if errors.Is(err, sls.ErrConflict) {
				return sls.Errorf(sls.CodeConflict, "An SFTP client %q already exists.", username)
			}
			return err
		}
		var fps, formats []string
		for _, k := range keys {
			if err := tx.AddSFTPKey(ctx, newKeyRow(username, k.key, now)); err != nil {
				return err
			}
			fps, formats = append(fps, k.key.Fingerprint), append(formats, string(k.key.Format))
		}
		if err := tx.SetSFTPNetworks(ctx, username, nets); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventSFTPClientRegistered, u.ID, "", map[string]any{
			"client": username, "keys": fps, "formats": formats, "allow": prefixStrings(nets), "enabled": c.Enabled,
			"quota_bytes": c.QuotaBytes, "ftp": c.FTPEnabled(),
		}); err != nil {
			return err
		}
		view, err = clientView(ctx, tx, c, false)
		return err
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	for _, k := range keys {
		if k.warning != "" {
			view.Warnings = append(view.Warnings, k.warning)
		}
	}
	s.present(view)
	view.usability()
	if password != "" {
		w.Header().Set("Cache-Control", "no-store")
		view.FTPPassword = password
	}
	httpapi.WriteJSON(w, http.StatusCreated, view)
}

// userByName finds the user an SFTP client belongs to, by login username
// or user id.
func userByName(ctx context.Context, tx sls.Tx, name string) (*sls.User, error) {
	u, err := manage.LookupUser(ctx, tx, name)
	if sls.ErrorCode(err) == sls.CodeNotFound {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "No user %q to link the SFTP client to (give the login username with --user).", name)
	}
	return u, err
}

// lockClient reads and locks the client named in the path.
func lockClient(ctx context.Context, tx sls.Tx, r *http.Request) (*sls.SFTPClient, error) {
	name := normalizeSFTPUsername(r.PathValue("client"))
	c, err := tx.SFTPClientForUpdate(ctx, name)
	if errors.Is(err, sls.ErrNotFound) {
		return nil, errNoClient(name)
	}
	return c, err
}

func (s *Service) opSFTPShow(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := normalizeSFTPUsername(r.PathValue("client"))
	var view *sftpClientView
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		c, err := tx.SFTPClient(ctx, name)
		if errors.Is(err, sls.ErrNotFound) {
			return errNoClient(name)
		}
		if err != nil {
			return err
		}
		view, err = clientView(ctx, tx, c, true)
		return err
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	s.present(view)
	view.usability()
	httpapi.WriteJSON(w, http.StatusOK, view)
}

func (s *Service) opSFTPList(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	out := []*sftpClientView{}
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		cs, err := tx.SFTPClients(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			v, err := clientView(ctx, tx, c, false)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	for _, v := range out {
		s.present(v)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"clients": out})
}

type sftpKeyBody struct {
	Key string `json:"key" required:"true"`
}

func (s *Service) opSFTPAddKey(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var b sftpKeyBody
	if err := httpapi.Decode(w, r, &b); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	keys, err := parseKeys([]string{b.Key})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	k := keys[0]
	ctx := r.Context()
	now := s.Clock.Now()
	row := newKeyRow("", k.key, now)
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := lockClient(ctx, tx, r)
		if err != nil {
			return err
		}
		row.Username = c.Username
		if err := tx.AddSFTPKey(ctx, row); err != nil {
			if errors.Is(err, sls.ErrConflict) {
				return sls.Errorf(sls.CodeConflict, "The key %s is already registered for %s.", k.key.Fingerprint, c.Username)
			}
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventSFTPKeyAdded, c.UserID, "", map[string]any{
			"client": c.Username, "key_id": row.ID, "fingerprint": row.Fingerprint, "format": row.Format, "type": row.Type, "bits": row.Bits,
		})
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	out := map[string]any{"key": row}
	if k.warning != "" {
		out["warnings"] = []string{k.warning}
	}
	httpapi.WriteJSON(w, http.StatusCreated, out)
}

func (s *Service) opSFTPRevokeKey(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.Clock.Now()
	id := r.PathValue("id")
	var left int
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := lockClient(ctx, tx, r)
		if err != nil {
			return err
		}
		keys, err := tx.SFTPKeys(ctx, c.Username, false)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(keys, func(k *sls.SFTPKey) bool { return k.ID == id })
		if i < 0 {
			return sls.Errorf(sls.CodeNotFound, "%s has no active key %q.", c.Username, id)
		}
		if err := tx.RevokeSFTPKey(ctx, c.Username, id, now); err != nil {
			return err
		}
		left = len(keys) - 1
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventSFTPKeyRevoked, c.UserID, "", map[string]any{
			"client": c.Username, "key_id": id, "fingerprint": keys[i].Fingerprint,
		})
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	out := map[string]any{"revoked": id, "active_keys": left}
	if left == 0 {
		out["warnings"] = []string{"The client has no key left: it cannot log in until one is added."}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

type sftpAllowBody struct {
	Allow []string `json:"allow" required:"true"`
}

func (s *Service) opSFTPAllow(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var b sftpAllowBody
	if err := httpapi.Decode(w, r, &b); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	nets, err := parseAllow(b.Allow)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	s.updateSFTPClient(a, w, r, func(ctx context.Context, tx sls.Tx, c *sls.SFTPClient, now time.Time) error {
		before, err := tx.SFTPNetworks(ctx, c.Username)
		if err != nil {
			return err
		}
		if err := tx.SetSFTPNetworks(ctx, c.Username, nets); err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventSFTPAllowListSet, c.UserID, "", map[string]any{
			"client": c.Username, "allow": prefixStrings(nets), "before": prefixStrings(before),
		})
	})
}

// updateSFTPClient runs change on the client the path names, locked, in
// one transaction, and answers with the client's view.
func (s *Service) updateSFTPClient(a *httpapi.API, w http.ResponseWriter, r *http.Request, change func(ctx context.Context, tx sls.Tx, c *sls.SFTPClient, now time.Time) error) {
	ctx := r.Context()
	now := s.Clock.Now()
	var view *sftpClientView
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := lockClient(ctx, tx, r)
		if err != nil {
			return err
		}
		if err := change(ctx, tx, c, now); err != nil {
			return err
		}
		view, err = clientView(ctx, tx, c, false)
		return err
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	s.present(view)
	view.usability()
	httpapi.WriteJSON(w, http.StatusOK, view)
}

type sftpQuotaBody struct {
	// QuotaBytes is the new quota; 0 returns the client to
	// sftp.default_quota_bytes.
	QuotaBytes *int64 `json:"quota_bytes" required:"true"`
}

// opSFTPQuota sets a client's storage quota. A quota below what the
// folder holds is accepted (the operator may mean to stop new files until
// the purge makes room); the view then warns. Sessions already open keep
// the quota they logged in with.
func (s *Service) opSFTPQuota(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	var b sftpQuotaBody
	if err := httpapi.Decode(w, r, &b); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	if b.QuotaBytes == nil {
		httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeInvalidArgument, "quota_bytes is required (0 for the server's default)."))
		return
	}
	if err := checkQuota(*b.QuotaBytes); err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	s.updateSFTPClient(a, w, r, func(ctx context.Context, tx sls.Tx, c *sls.SFTPClient, now time.Time) error {
		before := c.QuotaBytes
		if before == *b.QuotaBytes {
			return nil
		}
		c.QuotaBytes, c.UpdatedAt = *b.QuotaBytes, now
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventSFTPQuotaSet, c.UserID, "", map[string]any{
			"client": c.Username, "quota_bytes": c.QuotaBytes, "before": before,
		})
	})
}

func (s *Service) opSFTPSetPGP(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	// Raw body rather than JSON: an exported key with photo IDs is larger
	// than the JSON API's MaxBody.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, statement.MaxKeySize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = sls.Errorf(sls.CodeBodyTooLarge, "The OpenPGP key is larger than %d bytes.", statement.MaxKeySize)
		}
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	now := s.Clock.Now()
	e, err := statement.ParseRecipientAt(data, now)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeInvalidArgument, "The OpenPGP key was refused: %s.",
			strings.TrimPrefix(err.Error(), "statement: ")).Wrap(err))
		return
	}
	armored, err := armorPublicKey(e)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	fp := fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
	var uids []string
	for name := range e.Identities {
		uids = append(uids, name)
	}
	slices.Sort(uids)
	ctx := r.Context()
	var client string
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := lockClient(ctx, tx, r)
		if err != nil {
			return err
		}
		client = c.Username
		prev := c.PGPFingerprint
		c.PGPKey, c.PGPFingerprint, c.UpdatedAt = armored, fp, now
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventSFTPPGPKeySet, c.UserID, "", map[string]any{
			"client": c.Username, "pgp_fingerprint": fp, "previous": prev, "user_ids": uids,
		})
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"client": client, "pgp_fingerprint": fp, "user_ids": uids})
}

// armorPublicKey stores the key in one form whatever form it came in:
// binary exports are as welcome as armored ones.
func armorPublicKey(e *openpgp.Entity) (string, error) {
	var buf bytes.Buffer
	aw, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return "", fmt.Errorf("server: sftp: armor: %w", err)
	}
	if err := e.Serialize(aw); err != nil {
		return "", fmt.Errorf("server: sftp: armor: %w", err)
	}
	if err := aw.Close(); err != nil {
		return "", fmt.Errorf("server: sftp: armor: %w", err)
	}
	return buf.String() + "\n", nil
}

func (s *Service) opSFTPRemovePGP(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.Clock.Now()
	var client string
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		c, err := lockClient(ctx, tx, r)
		if err != nil {
			return err
		}
		client = c.Username
		if c.PGPKey == "" {
			return sls.Errorf(sls.CodeNotFound, "%s has no OpenPGP key.", c.Username)
		}
		prev := c.PGPFingerprint
		c.PGPKey, c.PGPFingerprint, c.UpdatedAt = "", "", now
		if err := tx.PutSFTPClient(ctx, c); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), sls.EventSFTPPGPKeyRemoved, c.UserID, "", map[string]any{
			"client": c.Username, "pgp_fingerprint": prev,
		})
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"client": client,
		"warnings": []string{"Statements are now delivered unencrypted."}})
}

func (s *Service) opSFTPEnable(enable bool) func(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	return func(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
		s.updateSFTPClient(a, w, r, func(ctx context.Context, tx sls.Tx, c *sls.SFTPClient, now time.Time) error {
			if c.Enabled == enable {
				return nil
			}
			c.Enabled, c.UpdatedAt = enable, now
			if err := tx.PutSFTPClient(ctx, c); err != nil {
				return err
			}
			ev := sls.EventSFTPClientDisabled
			if enable {
				ev = sls.EventSFTPClientEnabled
			}
			return sls.Audit(ctx, tx, now, httpapi.OperatorActor(r), ev, c.UserID, "", map[string]any{"client": c.Username})
		})
	}
}

// opDeliverStatement takes the statement as the raw request body, with
// its name in the query (?name=…): the body is streamed to disk (and
// through the encryption) without being held in memory, up to
// sftp.max_statement_bytes.
func (s *Service) opDeliverStatement(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	f := s
	if !f.enabled {
		httpapi.WriteError(w, r, a.Log, errSFTPOff)
		return
	}
	name := r.URL.Query().Get("name")
	if err := statement.ValidateName(name); err != nil {
		httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeInvalidArgument, "The statement name (?name=) is refused: %s.",
			strings.TrimPrefix(err.Error(), "statement: ")))
		return
	}
	kind, err := parseDocumentKind(r.URL.Query().Get("type"))
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	max := f.cfg.MaxStatementBytes
	if r.ContentLength > max {
		httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeBodyTooLarge, "The statement is larger than %d bytes (sftp.max_statement_bytes).", max))
		return
	}
	// The server's read timeout suits JSON requests, not a large file on
	// a slow link; this request gets an hour.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Hour))
	body := http.MaxBytesReader(w, r.Body, max)
	out, err := s.Deliver(r.Context(), httpapi.OperatorActor(r), "operator", normalizeSFTPUsername(r.PathValue("client")), name, kind, body, r.ContentLength)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = sls.Errorf(sls.CodeInvalidRequest, "The upload ended before the whole statement arrived; nothing was delivered.").Wrap(err)
		}
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, out)
}

// statementFile is one file in a client's folder.
type statementFile struct {
	Name       string    `json:"name"`
	Bytes      int64     `json:"bytes"`
	Modified   time.Time `json:"modified"`
	Encrypted  bool      `json:"encrypted"`
	PurgeAfter time.Time `json:"purge_after"`
}

func (s *Service) opListStatements(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	f := s
	if !f.enabled {
		httpapi.WriteError(w, r, a.Log, errSFTPOff)
		return
	}
	ctx := r.Context()
	name := normalizeSFTPUsername(r.PathValue("client"))
	var c *sls.SFTPClient
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		c, err = tx.SFTPClient(ctx, name)
		if errors.Is(err, sls.ErrNotFound) {
			return errNoClient(name)
		}
		return err
	})
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	files, err := listStatements(f.cfg.Root, c.Username, f.retention)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"client": c.Username, "statements": files})
}

// listStatements lists the regular files at the top of a client's folder
// (what the client sees on connecting), through an os.Root so that a link
// in the folder is described, not followed.
func listStatements(root, username string, retention time.Duration) ([]statementFile, error) {
	out := []statementFile{}
	base, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("server: sftp: %w", err)
	}
	defer base.Close()
	dir, err := base.OpenRoot(username)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil // nothing delivered yet
	}
	if err != nil {
		return nil, fmt.Errorf("server: sftp: %w", err)
	}
	defer dir.Close()
	d, err := dir.Open(".")
	if err != nil {
		return nil, fmt.Errorf("server: sftp: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("server: sftp: %w", err)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasPrefix(n, ".") {
			continue // deliveries in progress
		}
		fi, err := dir.Lstat(n)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, statementFile{Name: n, Bytes: fi.Size(), Modified: fi.ModTime().UTC(),
			Encrypted: strings.HasSuffix(n, statement.EncryptedSuffix), PurgeAfter: fi.ModTime().Add(retention).UTC()})
	}
	return out, nil
}
