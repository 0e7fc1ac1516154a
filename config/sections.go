package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/oidcprovider"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
	"github.com/secure-login-system/sls/sftpd"
	"github.com/secure-login-system/sls/takeover"
)

// SMS is the "sms" section (package factor/sms Rules).
type SMS struct {
	CodeTTL            Duration `json:"code_ttl,omitempty"`
	ResendInterval     Duration `json:"resend_interval,omitempty"`
	MaxAttemptsPerCode int      `json:"max_attempts_per_code,omitempty"`
	MaxPerUserDay      int      `json:"max_per_user_day,omitempty"`
	MaxPerNumberDay    int      `json:"max_per_number_day,omitempty"`
	MaxPerRegionHour   int      `json:"max_per_region_hour,omitempty"`
	SuspendAfterChange Duration `json:"suspend_after_change,omitempty"`
}

// SMSRules returns the "sms" section resolved and checked.
func (f *File) SMSRules() (sms.Rules, error) {
	c := f.SMS
	r := sms.Rules{CodeTTL: c.CodeTTL.D(), ResendInterval: c.ResendInterval.D(), MaxAttemptsPerCode: c.MaxAttemptsPerCode,
		MaxPerUserDay: c.MaxPerUserDay, MaxPerNumberDay: c.MaxPerNumberDay, MaxPerRegionHour: c.MaxPerRegionHour,
		SuspendAfterChange: c.SuspendAfterChange.D()}.WithDefaults()
	return r, field.Within("sms", r.Validate())
}

// Notify is the "notify" section: outbox workers and one delivery channel
// per kind of channel. Every channel defaults to the local sink when the
// sink is on, so that the embedded setup works with no provider.
type Notify struct {
	// Workers is the number of outbox workers on this node (default 1; 0
	// queues without delivering, for a node that only serves requests).
	Workers  *int               `json:"workers,omitempty"`
	Channels map[string]Channel `json:"channels,omitempty"`
	// Sink delivers every channel without a provider to the local test
	// sink (slsctl sink list). Off unless set here or --demo is given:
	// messages then fail rather than land where clients never see them.
	Sink bool `json:"sink,omitempty"`
}

// Channel chooses and configures a channel's adapter. Secrets are read
// from files (…_file) so they stay out of the configuration file.
type Channel struct {
	Type string `json:"type"` // sink, webhook, twilio, smtp

	URL        string `json:"url,omitempty"`         // webhook
	SecretFile string `json:"secret_file,omitempty"` // webhook

	BaseURL             string `json:"base_url,omitempty"` // twilio
	AccountSID          string `json:"account_sid,omitempty"`
	AuthTokenFile       string `json:"auth_token_file,omitempty"`
	From                string `json:"from,omitempty"` // twilio sender number, smtp sender address
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`

	Addr         string `json:"addr,omitempty"` // smtp
	Username     string `json:"username,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
	Security     string `json:"security,omitempty"` // default, starttls, tls, opportunistic

	Timeout Duration `json:"timeout,omitempty"`
}

// ChannelTypes are the adapters a channel may use.
var ChannelTypes = []string{"sink", "webhook", "twilio", "smtp"}

// SMTPSecurities are the values of an smtp channel's security.
var SMTPSecurities = []string{"default", "starttls", "tls", "opportunistic"}

// NotifyConfig returns the "notify" section checked, with Workers set.
// What needs the files and the adapters (secrets, numbers, addresses) is
// checked when the server builds the channels.
func (f *File) NotifyConfig() (Notify, error) {
	n := f.Notify
	var errs field.Errors
	workers := 1
	if n.Workers != nil {
		workers = *n.Workers
	}
	if workers < 0 || workers > 32 {
		errs.Addf("workers", "%d must be between 0 and 32", workers)
	}
	n.Workers = &workers
	for _, name := range sortedKeys(n.Channels) {
		c, at := n.Channels[name], "channels."+name
		if !notify.Channel(name).Valid() {
			errs.Addf(at, "unknown channel (channels: %v)", notify.AllChannels)
			continue
		}
		switch c.Type {
		case "", "sink":
		case "webhook":
			if c.URL == "" {
				errs.Addf(at+".url", "a webhook channel needs a url")
			}
			if c.SecretFile == "" {
				errs.Addf(at+".secret_file", "a webhook channel needs a secret file")
			}
		case "twilio":
			if c.AuthTokenFile == "" {
				errs.Addf(at+".auth_token_file", "a twilio channel needs an auth token file")
			}
		case "smtp":
			if c.Addr == "" {
				errs.Addf(at+".addr", "an smtp channel needs addr (host:port)")
			}
			if c.Security != "" && !slices.Contains(SMTPSecurities, c.Security) {
				errs.Addf(at+".security", "%q is not one of %s", c.Security, strings.Join(SMTPSecurities, ", "))
			}
		default:
			errs.Addf(at+".type", "%q is not one of %s", c.Type, strings.Join(ChannelTypes, ", "))
		}
	}
	return n, field.Within("notify", errs.Err())
}

// Policy is the "policy" section (package protect).
type Policy struct {
	// Mandated2FA lists the ISO 3166-1 alpha-2 jurisdictions whose
	// residents cannot opt out (default ["HK", "IN"], SPEC §5; [] for
	// none).
	Mandated2FA []string `json:"mandated_2fa,omitempty"`
	// CalendarLocation is the IANA time zone of business days (default
	// America/New_York).
	CalendarLocation string `json:"calendar_location,omitempty"`
	// WithdrawalConfirmationTTL is how long a withdrawal confirmation's
	// challenge may be answered, and ConfirmationValidity how long the
	// confirmation may then be used (both default 5m).
	WithdrawalConfirmationTTL Duration `json:"withdrawal_confirmation_ttl,omitempty"`
	ConfirmationValidity      Duration `json:"withdrawal_confirmation_validity,omitempty"`
	// RateBand bounds exchange rates an operator may set (policy.RateBand;
	// default 0.000001 to 1,000,000 USD per unit, at most 2× per update).
	// A field left out keeps its default.
	RateBand *RateBand `json:"rate_band,omitempty"`
}

// RateBand is policy.rate_band.
type RateBand struct {
	Min       string `json:"min,omitempty"`
	Max       string `json:"max,omitempty"`
	MaxFactor int64  `json:"max_factor,omitempty"`
}

// ProtectConfig returns the "policy" and "devices" sections as the
// protect service's configuration; the lockout rules come from "login".
func (f *File) ProtectConfig() (protect.Config, error) {
	p := f.Policy
	var errs field.Errors
	loc := policy.DefaultLocation
	if p.CalendarLocation != "" {
		l, err := time.LoadLocation(p.CalendarLocation)
		if err != nil {
			errs.Addf("calendar_location", "%q is not an IANA time zone", p.CalendarLocation)
		} else {
			loc = l
		}
	}
	band := policy.DefaultRateBand
	if rb := p.RateBand; rb != nil {
		if rb.Min != "" {
			band.Min = rb.Min
		}
		if rb.Max != "" {
			band.Max = rb.Max
		}
		if rb.MaxFactor != 0 {
			band.MaxFactor = rb.MaxFactor
		}
	}
	errs.Add("rate_band", band.Validate())
	for i, j := range p.Mandated2FA {
		if len(j) != 2 || strings.ToUpper(j) != j {
			errs.Addf(fmt.Sprintf("mandated_2fa[%d]", i), "%q is not an ISO 3166-1 alpha-2 code", j)
		}
	}
	lc, _ := f.LoginConfig() // its own problems are reported under "login"
	devices, _ := f.DevicesConfig()
	out := protect.Config{Mandated2FA: p.Mandated2FA, Location: loc, StepUpAnswerTTL: p.WithdrawalConfirmationTTL.D(),
		StepUpValidity: p.ConfirmationValidity.D(), MaxAnswers: lc.MaxAnswers, MaxFailures: lc.MaxFailures,
		LockoutCooldown: lc.LockoutCooldown, RateBand: band, DeviceLimits: devices.Limits}
	if tc, _ := f.TakeoverConfig(); !tc.CoolDownOff { // reported under "takeover"
		tier := tc.Limit()
		out.CoolDown = &tier
	}
	return out, field.Within("policy", errs.Err())
}

// Lifecycle is the "lifecycle" section (package lifecycle). Money is
// written as decimal US dollars ("1000000.00").
type Lifecycle struct {
	DSCPlusThresholdUSD  string     `json:"dscplus_threshold_usd,omitempty"`
	DeliveryBusinessDays int        `json:"delivery_business_days,omitempty"`
	ActivationNotices    []Duration `json:"activation_notices,omitempty"`
	ReplacementFeesUSD   struct {
		Lost    string `json:"lost,omitempty"`
		Stolen  string `json:"stolen,omitempty"`
		Damaged string `json:"damaged,omitempty"`
	} `json:"replacement_fees_usd"`
	// ReturnAddresses maps a region (us_canada, europe, hong_kong,
	// australia, japan) to its postal address, lines separated by "\n".
	ReturnAddresses map[policy.Region]string `json:"return_addresses,omitempty"`
	ReturnCountries map[string]policy.Region `json:"return_countries,omitempty"`
	ReturnFallback  policy.Region            `json:"return_fallback,omitempty"`
	// JobEvery is the period of the timed jobs (default 1m).
	JobEvery Duration `json:"job_every,omitempty"`
}

// LifecycleConfig returns the "lifecycle" section as the lifecycle
// service's configuration; the lockout rules come from "login".
func (f *File) LifecycleConfig() (lifecycle.Config, error) {
	l := f.Lifecycle
	lc, _ := f.LoginConfig() // its own problems are reported under "login"
	c := lifecycle.Config{DeliveryBusinessDays: l.DeliveryBusinessDays, MaxFailures: lc.MaxFailures,
		LockoutCooldown: lc.LockoutCooldown, JobEvery: l.JobEvery.D(),
		Returns: policy.ReturnAddresses{Addresses: l.ReturnAddresses, Countries: l.ReturnCountries, Fallback: l.ReturnFallback}}
	var errs field.Errors
	usd := func(path, v string) int64 {
		if v == "" {
			return 0
		}
		m, err := protect.ParseAmount("USD", v)
		if err != nil {
			if v == "0" || v == "0.00" {
				return 0
			}
			errs.Addf(path, "%q is not a positive amount of US dollars", v)
		}
		return m.Minor
	}
	c.ThresholdUSD = usd("dscplus_threshold_usd", l.DSCPlusThresholdUSD)
	c.Fees.Lost = usd("replacement_fees_usd.lost", l.ReplacementFeesUSD.Lost)
	c.Fees.Stolen = usd("replacement_fees_usd.stolen", l.ReplacementFeesUSD.Stolen)
	c.Fees.Damaged = usd("replacement_fees_usd.damaged", l.ReplacementFeesUSD.Damaged)
	for _, d := range l.ActivationNotices {
		c.Notices = append(c.Notices, d.D())
	}
	if len(errs) == 0 {
		errs.Add("", c.Validate())
	}
	return c, field.Within("lifecycle", errs.Err())
}

// SFTP is the "sftp" section. Paths left out are under the data directory
// (--data), which the server knows.
type SFTP struct {
	// Enabled runs the SFTP server, the spool scan and the purge on this
	// node (default true). Client management through the operator API
	// works either way: it is database state shared by every node.
	Enabled *bool `json:"enabled,omitempty"`
	// Listen is the SFTP address (default 127.0.0.1:2222). The seed
	// articles use TCP 32, which needs root or CAP_NET_BIND_SERVICE.
	// The --sftp-listen flag overrides it.
	Listen string `json:"listen,omitempty"`
	// Root holds one folder per client (default DATA/statements). Nodes
	// serving one database must share it (network file system).
	Root string `json:"root,omitempty"`
	// Spool is where the back office drops statements as
	// SPOOL/<sftp username>/<file> (default DATA/spool).
	Spool string `json:"spool,omitempty"`
	// HostKeyFile is the server's SSH host key, created on first start
	// (default DATA/sftp_host_ed25519_key). Nodes must share it, or
	// clients see a changed host key.
	HostKeyFile string `json:"host_key_file,omitempty"`
	// RetentionDays is how long statements stay (default 100, SPEC §7).
	RetentionDays int `json:"retention_days,omitempty"`
	// SpoolInterval is how often this node scans the spool (default 10s).
	SpoolInterval Duration `json:"spool_interval,omitempty"`
	// MaxConns, IdleTimeout and LoginGraceTime tune the SSH server
	// (package sftpd's defaults when zero).
	MaxConns       int      `json:"max_conns,omitempty"`
	IdleTimeout    Duration `json:"idle_timeout,omitempty"`
	LoginGraceTime Duration `json:"login_grace_time,omitempty"`
	// MaxStatementBytes caps a statement uploaded through the operator
	// API (default 2 GiB).
	MaxStatementBytes int64 `json:"max_statement_bytes,omitempty"`
	// DefaultQuotaBytes bounds the bytes in each client's folder, the
	// statements delivered and the client's uploads alike (default 1 GiB);
	// an operator may set another quota per client. There is no
	// "unlimited": the folders share a disk with the database, so every
	// folder has a finite bound.
	DefaultQuotaBytes int64 `json:"default_quota_bytes,omitempty"`
	// QuotaFiles bounds the files and folders in each client's folder
	// (default 10000): under a byte quota alone, empty files could fill
	// the disk's inode table.
	QuotaFiles int64 `json:"quota_files,omitempty"`
	// Ciphers are the SSH ciphers the server offers (default
	// sftpd.DefaultCiphers: AES-GCM and AES-CTR, without ChaCha20, so
	// that a default OpenSSH client negotiates hardware AES; add
	// "chacha20-poly1305@openssh.com" to offer it again). The client's
	// order decides among them (RFC 4253 §7.1).
	Ciphers []string `json:"ciphers,omitempty"`
}

// Defaults of the sftp section.
const (
	DefaultSFTPListen        = "127.0.0.1:2222"
	DefaultSFTPRetentionDays = int(sftpd.DefaultRetention / (24 * time.Hour)) // SPEC §7
	DefaultSpoolInterval     = 10 * time.Second
	DefaultMaxStatementBytes = 2 << 30
	// DefaultSFTPQuotaBytes holds a hundred days of daily statements (a
	// few hundred KB of PDF each, SPEC §7's retention) many times over.
	DefaultSFTPQuotaBytes = 1 << 30
	// DefaultSFTPQuotaFiles is thirty times a hundred days of one daily
	// statement.
	DefaultSFTPQuotaFiles = 10000
)

// SFTPConfig returns the "sftp" section checked, with every default but
// the paths filled in.
func (f *File) SFTPConfig() (SFTP, error) {
	c := f.SFTP
	var errs field.Errors
	if c.Enabled == nil {
		on := true
		c.Enabled = &on
	}
	if c.Listen == "" {
		c.Listen = DefaultSFTPListen
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs.Addf("listen", "%q is not host:port", c.Listen)
	}
	if c.RetentionDays == 0 {
		c.RetentionDays = DefaultSFTPRetentionDays
	} else if c.RetentionDays < 1 || c.RetentionDays > 3650 {
		errs.Addf("retention_days", "%d must be between 1 and 3650", c.RetentionDays)
	}
	if c.SpoolInterval == 0 {
		c.SpoolInterval = Duration(DefaultSpoolInterval)
	} else if c.SpoolInterval.D() < 100*time.Millisecond {
		errs.Addf("spool_interval", "%s must be at least 100ms", c.SpoolInterval.D())
	}
	if c.MaxStatementBytes == 0 {
		c.MaxStatementBytes = DefaultMaxStatementBytes
	} else if c.MaxStatementBytes < 0 {
		errs.Addf("max_statement_bytes", "must be positive")
	}
	if c.DefaultQuotaBytes == 0 {
		c.DefaultQuotaBytes = DefaultSFTPQuotaBytes
	} else if c.DefaultQuotaBytes < 0 {
		errs.Addf("default_quota_bytes", "must be positive (there is no unlimited quota)")
	}
	if c.QuotaFiles == 0 {
		c.QuotaFiles = DefaultSFTPQuotaFiles
	} else if c.QuotaFiles < 0 {
		errs.Addf("quota_files", "must be positive (there is no unlimited quota)")
	}
	switch {
	case c.MaxConns == 0:
		c.MaxConns = sftpd.DefaultMaxConns
	case c.MaxConns < 0:
		errs.Addf("max_conns", "must not be negative")
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = Duration(sftpd.DefaultIdleTimeout)
	}
	if c.LoginGraceTime == 0 {
		c.LoginGraceTime = Duration(sftpd.DefaultLoginGraceTime)
	}
	if c.Ciphers == nil {
		c.Ciphers = slices.Clone(sftpd.DefaultCiphers)
	} else if err := sftpd.CheckCiphers(c.Ciphers); err != nil {
		errs.Addf("ciphers", "%v", err)
	}
	return c, field.Within("sftp", errs.Err())
}

// Operators is the "operators" section.
type Operators struct {
	// TokenTTL is how long an operator token lasts (default 8h).
	TokenTTL Duration `json:"token_ttl,omitempty"`
	// ApprovalWindow is how long a dual-control request waits (default
	// 30m).
	ApprovalWindow Duration `json:"approval_window,omitempty"`
	// DualControl turns dual control on or off per action; every action
	// is on unless listed here as false.
	DualControl map[string]bool `json:"dual_control,omitempty"`
	// CardOutput is the card personalisation output directory (default
	// DATA/cards): DSC+ card files and printable code cards go there.
	CardOutput string `json:"card_output,omitempty"`
}

// OperatorsConfig returns the "operators" section as the operators
// service's configuration.
func (f *File) OperatorsConfig() (operators.Config, error) {
	o := f.Operators
	c, err := operators.Config{TokenTTL: o.TokenTTL.D(), ApprovalWindow: o.ApprovalWindow.D(), DualControl: o.DualControl}.WithDefaults()
	return c, field.Within("operators", err)
}

// Audit is the "audit" section: signed checkpoints of the audit chain and
// the streams that carry the trail out of the database.
type Audit struct {
	// CheckpointEveryEntries signs a checkpoint once this many entries
	// were added since the last one (default 1000).
	CheckpointEveryEntries int64 `json:"checkpoint_every_entries,omitempty"`
	// CheckpointEvery signs one at least this often while entries are
	// added (default 1m).
	CheckpointEvery Duration `json:"checkpoint_every,omitempty"`
	// SigningKeyFile holds the Ed25519 signing key (hex seed); default
	// DATA/audit-signing.key, made on first start. --audit-key overrides.
	SigningKeyFile string `json:"signing_key_file,omitempty"`
	// KeysFile lists the trusted public keys, every key ever used
	// ("KEYID HEXKEY" lines); default DATA/audit-keys.pub.
	KeysFile string `json:"keys_file,omitempty"`
	// Streams send checkpoints (and, with entries, every entry) to a SIEM
	// or WORM storage, at least once.
	Streams []AuditStream `json:"streams,omitempty"`
}

// AuditStream is one destination of the trail.
type AuditStream struct {
	Name string `json:"name"`
	Type string `json:"type"` // webhook or syslog
	// Webhook: URL, and the HMAC secret's file (X-SLS-Signature).
	URL        string `json:"url,omitempty"`
	SecretFile string `json:"secret_file,omitempty"`
	// Syslog (RFC 5424 over TCP, RFC 6587 octet counting): host:port.
	Addr string `json:"addr,omitempty"`
	// Entries sends every entry too, not only checkpoints.
	Entries bool `json:"entries,omitempty"`
}

// AuditConfig returns the "audit" section checked, with the checkpoint
// defaults filled in (the key files default under the data directory).
func (f *File) AuditConfig() (Audit, error) {
	a := f.Audit
	var errs field.Errors
	if a.CheckpointEveryEntries == 0 {
		a.CheckpointEveryEntries = 1000
	} else if a.CheckpointEveryEntries < 1 {
		errs.Addf("checkpoint_every_entries", "must be at least 1")
	}
	if a.CheckpointEvery == 0 {
		a.CheckpointEvery = Duration(time.Minute)
	} else if a.CheckpointEvery.D() < time.Second {
		errs.Addf("checkpoint_every", "%s must be at least 1s", a.CheckpointEvery.D())
	}
	names := map[string]bool{}
	for i, st := range a.Streams {
		at := fmt.Sprintf("streams[%d]", i)
		if st.Name == "" || names[st.Name] {
			errs.Addf(at+".name", "every stream needs a distinct name")
		}
		names[st.Name] = true
		switch st.Type {
		case "webhook":
			if u, err := url.Parse(st.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs.Addf(at+".url", "must be an http(s) URL")
			}
			if st.SecretFile == "" {
				errs.Addf(at+".secret_file", "a webhook stream needs a secret file")
			}
		case "syslog":
			if _, _, err := net.SplitHostPort(st.Addr); err != nil {
				errs.Addf(at+".addr", "must be host:port")
			}
		default:
			errs.Addf(at+".type", "%q is not webhook or syslog", st.Type)
		}
	}
	return a, field.Within("audit", errs.Err())
}

// Seal is the "seal" section: key rotation.
type Seal struct {
	// ReloadEvery is how often a node reloads the key ring from the
	// database (default 5s): how soon it seals with a key another node
	// made. A value under a key it does not hold triggers a reload at once.
	ReloadEvery Duration `json:"reload_every,omitempty"`
	// ResealEvery is how often the re-sealing job runs while a key is
	// retiring (default 10s; each run works for up to 5s).
	ResealEvery Duration `json:"reseal_every,omitempty"`
	// ResealBatch is how many values one transaction re-seals (default 200).
	ResealBatch int `json:"reseal_batch,omitempty"`
	// RetireAfter is how long a retiring key stays usable at least, after
	// which a pass that finds nothing under it retires it (default 10m:
	// far longer than any node takes to reload the ring).
	RetireAfter Duration `json:"retire_after,omitempty"`
}

// SealConfig returns the "seal" section checked, with defaults filled in.
func (f *File) SealConfig() (Seal, error) {
	c := f.Seal
	var errs field.Errors
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&c.ReloadEvery, 5*time.Second)
	def(&c.ResealEvery, 10*time.Second)
	def(&c.RetireAfter, 10*time.Minute)
	if c.ResealBatch == 0 {
		c.ResealBatch = 200
	}
	if c.ReloadEvery.D() < 100*time.Millisecond {
		errs.Addf("reload_every", "%s must be at least 100ms", c.ReloadEvery.D())
	}
	if c.ResealEvery.D() < 100*time.Millisecond {
		errs.Addf("reseal_every", "%s must be at least 100ms", c.ResealEvery.D())
	}
	if c.ResealBatch < 1 || c.ResealBatch > 10000 {
		errs.Addf("reseal_batch", "%d must be between 1 and 10000", c.ResealBatch)
	}
	if c.RetireAfter.D() < c.ReloadEvery.D() {
		errs.Addf("retire_after", "%s must be at least reload_every (%s)", c.RetireAfter.D(), c.ReloadEvery.D())
	}
	return c, field.Within("seal", errs.Err())
}

// OIDC is the "oidc" section (docs/oidc.md).
type OIDC struct {
	// Disabled turns the provider off; it is on by default.
	Disabled        bool     `json:"disabled,omitempty"`
	Issuer          string   `json:"issuer,omitempty"`
	CodeTTL         Duration `json:"code_ttl,omitempty"`
	AccessTokenTTL  Duration `json:"access_token_ttl,omitempty"`
	IDTokenTTL      Duration `json:"id_token_ttl,omitempty"`
	RefreshTokenTTL Duration `json:"refresh_token_ttl,omitempty"`
	KeyRotation     Duration `json:"key_rotation,omitempty"`
	KeyPublishAhead Duration `json:"key_publish_ahead,omitempty"`
}

// OIDCConfig returns the "oidc" section as the provider's configuration,
// defaults filled in. An authorization request lives as long as a login
// may take, plus time to read the consent page.
func (f *File) OIDCConfig() (oidcprovider.Config, error) {
	o := f.OIDC
	lc, _ := f.LoginConfig() // its own problems are reported under "login"
	c := oidcprovider.Config{Issuer: o.Issuer, AuthRequestTTL: lc.LoginTTL + 5*time.Minute, CodeTTL: o.CodeTTL.D(),
		AccessTokenTTL: o.AccessTokenTTL.D(), IDTokenTTL: o.IDTokenTTL.D(), RefreshTokenTTL: o.RefreshTokenTTL.D(),
		KeyRotation: o.KeyRotation.D(), KeyPublishAhead: o.KeyPublishAhead.D()}.WithDefaults()
	return c, field.Within("oidc", c.Validate())
}

// Passkey is the "passkey" section: the WebAuthn relying party. RPID is
// the registrable domain passkeys are bound to (e.g. "broker.example");
// Origins are the exact origins pages that use them are served from (e.g.
// "https://login.broker.example"). Left out, a server listening on a
// loopback address uses "localhost" and http(s)://localhost:PORT, for
// local use.
type Passkey struct {
	RPID        string   `json:"rp_id,omitempty"`
	Origins     []string `json:"origins,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
}

// PasskeyConfig returns the "passkey" section checked, with the display
// name defaulted.
func (f *File) PasskeyConfig() (Passkey, error) {
	p := f.Passkey
	var errs field.Errors
	if (p.RPID == "") != (len(p.Origins) == 0) {
		errs.Addf("rp_id", "give rp_id and origins together")
	}
	for i, o := range p.Origins {
		u, err := url.Parse(o)
		at := fmt.Sprintf("origins[%d]", i)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			errs.Addf(at, "%q must be scheme://host[:port]", o)
		} else if h := u.Hostname(); p.RPID != "" && h != p.RPID && !strings.HasSuffix(h, "."+p.RPID) {
			errs.Addf(at, "%q is not on rp_id %q (WebAuthn §5.1.4.1)", o, p.RPID)
		}
	}
	if p.DisplayName == "" {
		p.DisplayName = "SLS"
	}
	return p, field.Within("passkey", errs.Err())
}

// Takeover is the "takeover" section (package takeover): the cool-down
// after a security change and the "this wasn't me" reports.
type Takeover struct {
	// Disabled turns the cool-down off (reports and links stay).
	Disabled bool `json:"disabled,omitempty"`
	// CoolDown is how long money movement stays at the cool-down tier
	// after a security change (default 72h).
	CoolDown        Duration `json:"cool_down,omitempty"`
	DayLimitUSD     *USDCap  `json:"day_limit_usd,omitempty"`
	FiveDayLimitUSD *USDCap  `json:"five_day_limit_usd,omitempty"`
	// ReportLinkTTL is how long a notice's report link works (default 7
	// days).
	ReportLinkTTL Duration `json:"report_link_ttl,omitempty"`
	// PublicURL is the portal's public URL that report links start with
	// (default: the listening address).
	PublicURL string `json:"public_url,omitempty"`
	// SecurityTeamEmail is alerted when a user reports a takeover.
	SecurityTeamEmail string `json:"security_team_email,omitempty"`
}

// TakeoverConfig returns the "takeover" section as the service's
// configuration, defaults filled in.
func (f *File) TakeoverConfig() (takeover.Config, error) {
	t := f.Takeover
	c := takeover.Config{CoolDown: t.CoolDown.D(), LinkTTL: t.ReportLinkTTL.D(), PublicURL: t.PublicURL, SecurityTeam: t.SecurityTeamEmail}
	if t.DayLimitUSD != nil {
		c.DayLimit = int64(*t.DayLimitUSD)
	}
	if t.FiveDayLimitUSD != nil {
		c.FiveDayLimit = int64(*t.FiveDayLimitUSD)
	}
	c = c.WithDefaults()
	var errs field.Errors
	if c.CoolDown < time.Hour || c.CoolDown > 30*24*time.Hour {
		errs.Addf("cool_down", "%s must be between 1h and 720h", c.CoolDown)
	}
	if c.DayLimit > c.FiveDayLimit {
		errs.Addf("day_limit_usd", "the daily limit is above the five-day limit")
	}
	if c.LinkTTL < time.Hour || c.LinkTTL > 30*24*time.Hour {
		errs.Addf("report_link_ttl", "%s must be between 1h and 720h", c.LinkTTL)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs.Addf("public_url", "%q must be an http(s) URL without query or fragment", c.PublicURL)
		}
	}
	if e := c.SecurityTeam; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \r\n<>")) {
		errs.Addf("security_team_email", "%q is not an email address", e)
	}
	c.CoolDownOff = t.Disabled
	return c, field.Within("takeover", errs.Err())
}
