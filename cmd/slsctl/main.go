// Command slsctl is the operators' tool (Client Services, Security Team,
// shipping, reporting, auditors, admins). Each operator logs in with
// their own name, password and security device ("slsctl login"); the
// short-lived operator token is kept in the user's configuration
// directory. The first operator is created once with the bootstrap
// secret slsd leaves in its data directory ("slsctl bootstrap").
//
//	slsctl [global flags] <command> [flags] [args]
//
// Run "slsctl help" for the commands.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	apiclient "github.com/secure-login-system/sls/client"
)

const usage = `slsctl — operate a Secure Login System server

Global flags (before the command):
  --server URL        server address (env SLS_SERVER, default http://127.0.0.1:8080;
                      the admin listener when slsd runs with --admin-listen)
  --token-file PATH   operator token file (env SLS_TOKEN_FILE, default <user config dir>/sls/operator.token)
  --approval ID       present a second operator's approval (dual control; see "approval")
  --output, -o json   print the server's answer as JSON instead of text
  --version           print the version and exit
  Exit status: 0 done, 1 failed, 2 usage, 3 not found, 4 refused (token, role,
  dual control, rule), 5 server unreachable, 6 the audit trail does not verify.
  slsctl COMMAND --help shows a command's part of this text; slsctl completion
  bash|zsh|fish|powershell prints shell completion.

Operators:
  bootstrap --secret-file DATA/bootstrap.secret --name NAME --pin PIN [--roles all] [--out card.json]
                                                  create the first operator with their DSC+, once
                                                  (password: first line of standard input)
  login NAME [--device ID]                        log in: password, then your security device's answer
                                                  (both read from standard input, one line each, or typed)
  logout | whoami
  operator list
  operator add NAME --roles r1,r2 --pin PIN [--out card.json]
                                                  with their DSC+ (password: first line of standard input)
  operator roles NAME r1,r2 | operator disable NAME | operator enable NAME
  operator dscplus NAME --pin 1234 [--serial S] [--out card.json]
  approval list [--state pending|approved|denied|used|all]
  approval approve ID | approval deny ID
  Roles: client-services, security-team, shipping, reporting-integration, auditor, admin.

Clients:
  account create --id ID --currency USD --equity 1500000.00 --jurisdiction US
  user create --username NAME --account ID [--email E] [--mobile +E164] [--lang en]
              [--dob YYYY-MM-DD --citizenship CC --residence CC --id-type T --id-number N]
              [--security-admin]                 (password: first line of standard input)
  user show NAME
  user mobile NAME +E164 --verified "how identity was verified"   change the number (dual control user.mobile)
  user update NAME [--email E] [--lang L] [--security-admin true|false]
  user disable|enable NAME --reason "why"         no login while disabled; sessions end (enable: dual control user.unlock)
  user delete NAME --reason "why"                 erase personal data, revoke devices; the audit history stays (dual control user.delete)
  user reset-password NAME --verified "how identity was verified"
                                                  a one-time code goes to the client's own number and email; you never see it
  user clear-cool-down NAME --reason "how the change was checked with the client"
                                                  lift the lower withdrawal tier after a security change (new device,
                                                  password reset, new number) before its 72 hours are over
  devices NAME                                    list a user's devices
  dscplus issue NAME --pin 1234 [--serial S] [--pending] [--out card.json]
                                                  the card file goes to the server's card output directory;
                                                  --out copies it when this machine can read it
              [--override-eligibility --reason "why"]   (below the equity threshold only with a recorded reason)
  codecard issue NAME [--out card.txt]            the printable card goes to the server's card output directory
  totp issue NAME [--label L]                     print the otpauth:// URI of a new authenticator app, pending
                                                  until its first code (dual control totp.issue)
  totp confirm NAME DEVICE CODE                   activate it with its first code
  temppasscode issue NAME --verified "how identity was verified"
  device suspend|resume|revoke|activate DEVICE_ID [--reason R]
  unlock NAME
  lock NAME --reason "why"                        lock until unlocked; ends the user's sessions
  sessions NAME                                   list a user's sessions
  sessions end NAME [SESSION_ID]                  end one or all of a user's sessions
  audit verify [--trust KEYSFILE]                 verify the hash chain against the signed checkpoints
  audit list [--after SEQ] [--limit N]
  audit export [--since SEQ|RFC3339] [--out F]    JSON lines (entries, checkpoints) for a SIEM or WORM storage
  audit keys | audit checkpoint | audit rotate-key
  oidc client add ID --name NAME --redirect URI[,URI] [--public] [--post-logout URI[,URI]]
                [--scopes profile,email,phone,offline_access,account] [--acr VALUE[,VALUE]] [--skip-consent]
                                                  register an application of the OpenID Connect provider
                                                  (dual control oidc.client); a confidential client's secret is shown once
  oidc client list | oidc client remove ID
  oidc keys | oidc keys rotate                    signing keys; rotate publishes the next key ahead of use
  backup                                          an online copy of the SQLite database into the server's DATA/backups
                                                  (PostgreSQL: pg_dump; see docs/operations.md)
  seal status | seal rotate                       sealing keys: rotate, and watch the background re-sealing
  sftp help                                       SFTP statement delivery: clients, keys, allow-lists, PGP keys
  statement deliver|list                          statements in the clients' SFTP folders (see sftp help)
  diagnostics list|show|download|close            diagnostics bundles uploaded by trading platforms (see diagnostics help)
  sink list [--to DEST] [--kind KIND]             messages delivered to the local sink (JSON lines)
  outbox list [--state pending|sent|failed]       queued messages (bodies stay sealed)
  message send NAME --summary TEXT                secure message; body on standard input
  policy                                          account protection and device lifecycle: orders, deposits,
                                                  rates, holidays, IP restrictions, sharing, account closure
  crypto position USER VALUE_USD                  report an account's cryptocurrency holdings value (the custody fee's base)
  crypto custody [--account ID] [--month YYYY-MM] the custody-fee ledger (docs/crypto.md)
`

func main() {
	code, err := run(os.Args[1:], os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "slsctl:", err)
	}
	os.Exit(code)
}

type client struct {
	api       *apiclient.Client
	tokenFile string
	out       io.Writer
	in        io.Reader
	lines     *bufio.Reader
	// last is the server's last answer, what --output json prints.
	last json.RawMessage
}

// line reads the next line of standard input (passwords, answers).
func (c *client) line(what string) (string, error) {
	if c.lines == nil {
		c.lines = bufio.NewReader(c.in)
	}
	l, err := c.lines.ReadString('\n')
	if err != nil && (err != io.EOF || l == "") {
		return "", fmt.Errorf("%s: expected a line on standard input", what)
	}
	return strings.TrimRight(l, "\r\n"), nil
}

// do sends body as JSON and decodes the answer into out (package client).
// The answer is kept for --output json.
func (c *client) do(method, path string, body, out any) error {
	var raw json.RawMessage
	if err := c.api.Do(context.Background(), method, path, body, &raw); err != nil {
		return err
	}
	c.last = raw
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// doRaw sends body as is (package client); hc replaces the HTTP client
// for this request when not nil (a long upload without a timeout).
func (c *client) doRaw(method, path, contentType string, body io.Reader, size int64, out any, hc *http.Client) error {
	api := c.api
	if hc != nil {
		cp := *c.api
		cp.HTTP = hc
		api = &cp
	}
	return api.DoRaw(context.Background(), method, path, contentType, body, size, out)
}

// extraCommands are commands of other features, registered from their
// own files.
var extraCommands = map[string]func(c *client, args []string) error{}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// flags parses sub-command flags, allowing positional arguments before
// and after them.
func flags(name string, args []string, define func(*flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	define(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func one(name string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("%s needs exactly one argument, got %d", name, len(pos))
	}
	return pos[0], nil
}

func (c *client) printJSON(v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(c.out, string(b))
}

// parseMinor converts "1500000.50" to minor units (two decimals).
func parseMinor(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.ReplaceAll(s, ",", ""), ".")
	if whole == "" || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" || len(whole) > 15 {
		return 0, fmt.Errorf("amount %q must look like 1500000 or 1500000.50", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var v int64
	for _, ch := range whole + frac {
		v = v*10 + int64(ch-'0')
	}
	return v, nil
}

func (c *client) account(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: account create --id ID --currency USD --equity AMOUNT --jurisdiction CC")
	}
	var id, cur, equity, jur string
	if _, err := flags("account create", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "")
		fs.StringVar(&cur, "currency", "USD", "")
		fs.StringVar(&equity, "equity", "0", "")
		fs.StringVar(&jur, "jurisdiction", "", "")
	}); err != nil {
		return err
	}
	minor, err := parseMinor(equity)
	if err != nil {
		return err
	}
	var out map[string]any
	if err := c.do("POST", "/api/v1/ops/accounts", map[string]any{"id": id, "base_currency": cur, "equity_minor": minor, "jurisdiction": jur}, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "account %s created\n", out["id"])
	return nil
}

func (c *client) user(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: user create|show …")
	}
	switch args[0] {
	case "show":
		name, err := one("user show", args[1:])
		if err != nil {
			return err
		}
		var out map[string]any
		if err := c.do("GET", "/api/v1/ops/users/"+url.PathEscape(name), nil, &out); err != nil {
			return err
		}
		c.printJSON(out)
		return nil
	case "update":
		var email, lang, security string
		pos, err := flags("user update", args[1:], func(fs *flag.FlagSet) {
			fs.StringVar(&email, "email", "", "")
			fs.StringVar(&lang, "lang", "", "")
			fs.StringVar(&security, "security-admin", "", "")
		})
		if err != nil {
			return err
		}
		name, err := one("user update", pos)
		if err != nil {
			return err
		}
		body := map[string]any{}
		if email != "" {
			body["email"] = email
		}
		if lang != "" {
			body["lang"] = lang
		}
		if security != "" {
			body["can_change_security"] = security == "true" || security == "yes"
		}
		var out map[string]any
		if err := c.do("PATCH", "/api/v1/ops/users/"+url.PathEscape(name), body, &out); err != nil {
			return err
		}
		c.printJSON(out)
		return nil
	case "disable", "enable", "delete":
		var reason string
		pos, err := flags("user "+args[0], args[1:], func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "") })
		if err != nil {
			return err
		}
		name, err := one("user "+args[0], pos)
		if err != nil {
			return err
		}
		method, path := "POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/"+args[0]
		if args[0] == "delete" {
			method, path = "DELETE", "/api/v1/ops/users/"+url.PathEscape(name)
		}
		if err := c.do(method, path, map[string]any{"reason": reason}, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "user %s %sd\n", name, strings.TrimSuffix(args[0], "e"))
		return nil
	case "clear-cool-down":
		var reason string
		pos, err := flags("user clear-cool-down", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "") })
		if err != nil {
			return err
		}
		name, err := one("user clear-cool-down", pos)
		if err != nil {
			return err
		}
		if err := c.do("DELETE", "/api/v1/ops/users/"+url.PathEscape(name)+"/cool-down", map[string]any{"reason": reason}, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "the cool-down of %s is over: withdrawals and banking changes follow the device again\n", name)
		return nil
	case "reset-password":
		var verified string
		pos, err := flags("user reset-password", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&verified, "verified", "", "") })
		if err != nil {
			return err
		}
		name, err := one("user reset-password", pos)
		if err != nil {
			return err
		}
		var out struct {
			Channels  []string  `json:"channels"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/password-reset", map[string]any{"identity_verification": verified}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "a one-time reset code went to %s; it works until %s (the client enters it on the reset page)\n",
			strings.Join(out.Channels, " and "), out.ExpiresAt.Local().Format(time.RFC1123))
		return nil
	case "mobile":
		var verified string
		pos, err := flags("user mobile", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&verified, "verified", "", "") })
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return errors.New(`usage: user mobile NAME +E164 --verified "how identity was verified"`)
		}
		var out map[string]any
		if err := c.do("PUT", "/api/v1/ops/users/"+url.PathEscape(pos[0])+"/mobile", map[string]any{"mobile": pos[1], "identity_verification": verified}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "mobile number of %s changed to %s (verified); the old number and the email address are told, SMS login waits the change period\n", pos[0], out["mobile"])
		return nil
	case "create":
	default:
		return fmt.Errorf("unknown user command %q", args[0])
	}
	var username, account, email, mobile, lang, dob, cit, res, idType, idNum string
	var admin bool
	if _, err := flags("user create", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "")
		fs.StringVar(&account, "account", "", "")
		fs.StringVar(&email, "email", "", "")
		fs.StringVar(&mobile, "mobile", "", "")
		fs.StringVar(&lang, "lang", "en", "")
		fs.StringVar(&dob, "dob", "", "")
		fs.StringVar(&cit, "citizenship", "", "")
		fs.StringVar(&res, "residence", "", "")
		fs.StringVar(&idType, "id-type", "", "")
		fs.StringVar(&idNum, "id-number", "", "")
		fs.BoolVar(&admin, "security-admin", false, "")
	}); err != nil {
		return err
	}
	line, err := bufio.NewReader(c.in).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("the password is read from the first line of standard input")
	}
	password := strings.TrimRight(line, "\r\n")
	body := map[string]any{"username": username, "password": password, "account_id": account, "email": email, "mobile": mobile,
		"lang": lang, "can_change_security": admin,
		"identity": map[string]string{"date_of_birth": dob, "citizenship": cit, "residence": res, "id_type": idType, "id_number": idNum}}
	var out map[string]any
	if err := c.do("POST", "/api/v1/ops/users", body, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "user %s created (%s) on account %s\n", out["username"], out["id"], out["account_id"])
	return nil
}

type device struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	State       string `json:"state"`
	Serial      string `json:"serial"`
	ActivatedAt string `json:"activated_at"`
	ExpiresAt   string `json:"expires_at"`
}

func (c *client) devices(args []string) error {
	name, err := one("devices", args)
	if err != nil {
		return err
	}
	var out struct {
		Devices []device `json:"devices"`
	}
	if err := c.do("GET", "/api/v1/ops/users/"+url.PathEscape(name)+"/devices", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%-28s %-13s %-10s %-16s %s\n", "ID", "KIND", "STATE", "SERIAL", "EXPIRES")
	for _, d := range out.Devices {
		fmt.Fprintf(c.out, "%-28s %-13s %-10s %-16s %s\n", d.ID, d.Kind, d.State, d.Serial, d.ExpiresAt)
	}
	return nil
}

func (c *client) dscplus(args []string) error {
	if len(args) == 0 || args[0] != "issue" {
		return errors.New("usage: dscplus issue NAME --pin 1234 --out card.json")
	}
	var pin, serial, outPath, reason string
	var pending, override bool
	pos, err := flags("dscplus issue", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&pin, "pin", "", "")
		fs.StringVar(&serial, "serial", "", "")
		fs.StringVar(&outPath, "out", "", "")
		fs.BoolVar(&pending, "pending", false, "")
		fs.BoolVar(&override, "override-eligibility", false, "")
		fs.StringVar(&reason, "reason", "", "")
	})
	if err != nil {
		return err
	}
	name, err := one("dscplus issue", pos)
	if err != nil {
		return err
	}
	var out struct {
		Device   device `json:"device"`
		CardFile string `json:"card_file"`
	}
	if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/dscplus", map[string]any{"serial": serial, "pin": pin, "activate": !pending,
		"override_eligibility": override, "reason": reason}, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "DSC+ %s issued to %s (%s, device %s)\n", out.Device.Serial, name, out.Device.State, out.Device.ID)
	return c.cardFile(out.CardFile, outPath)
}

func (c *client) codecard(args []string) error {
	if len(args) == 0 || args[0] != "issue" {
		return errors.New("usage: codecard issue NAME")
	}
	var outPath string
	pos, err := flags("codecard issue", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&outPath, "out", "", "") })
	if err != nil {
		return err
	}
	name, err := one("codecard issue", pos)
	if err != nil {
		return err
	}
	var out struct {
		Device   device `json:"device"`
		CardFile string `json:"card_file"`
	}
	if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/codecard", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "Security Code Card %s issued to %s (device %s)\n", out.Device.Serial, name, out.Device.ID)
	return c.cardFile(out.CardFile, outPath)
}

func (c *client) temppasscode(args []string) error {
	if len(args) == 0 || args[0] != "issue" {
		return errors.New(`usage: temppasscode issue NAME --verified "how identity was verified"`)
	}
	var verified string
	pos, err := flags("temppasscode issue", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&verified, "verified", "", "") })
	if err != nil {
		return err
	}
	name, err := one("temppasscode issue", pos)
	if err != nil {
		return err
	}
	var out struct {
		Device   device `json:"device"`
		Passcode string `json:"passcode"`
	}
	if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/temppasscode", map[string]any{"identity_verification": verified}, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "temporary passcode for %s: %s\n(full access until 2 days after now, then portal only to print an Online Security Code Card; expires %s)\n",
		name, out.Passcode, out.Device.ExpiresAt)
	return nil
}

func (c *client) device(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: device suspend|resume|revoke|activate DEVICE_ID [--reason R]")
	}
	action := args[0]
	var reason string
	pos, err := flags("device "+action, args[1:], func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "") })
	if err != nil {
		return err
	}
	id, err := one("device "+action, pos)
	if err != nil {
		return err
	}
	var out device
	if err := c.do("POST", "/api/v1/ops/devices/"+url.PathEscape(id)+"/"+url.PathEscape(action), map[string]any{"reason": reason}, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "device %s (%s) is now %s\n", out.ID, out.Kind, out.State)
	return nil
}

func (c *client) unlock(args []string) error {
	name, err := one("unlock", args)
	if err != nil {
		return err
	}
	if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/unlock", nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "user %s unlocked\n", name)
	return nil
}

// writeCardFile writes a DSC+ card file (what the physical card holds: its
// key) readable by the owner only.
