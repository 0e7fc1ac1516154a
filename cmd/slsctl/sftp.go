package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

const sftpUsage = `SFTP statement delivery:
  sftp hostkey                                    the SFTP server's address and host key fingerprint
  sftp register CLIENT [--user LOGIN] --key FILE [--key FILE…] [--ftp] [--allow ADDR[,ADDR…]…] [--pgp FILE] [--disabled] [--quota SIZE]
                                                  FILE: the public key the client sent, in any format
                                                  (puttygen -L/-p, ssh-keygen, PEM; a .ppk gives its public part)
                                                  --ftp: FTP/FTPS access too, with a generated password shown once;
                                                  with neither --key nor --ftp the folder only feeds the portal
  sftp list                                       every client, with its folder's usage and quota
  sftp show CLIENT                                keys (with revoked ones), allow-list, OpenPGP key, usage and quota
  sftp quota CLIENT SIZE|default                  the folder's storage quota (SIZE: bytes, or 500MiB, 2GiB, 1GB…);
                                                  default: sftp.default_quota_bytes
  sftp key add CLIENT FILE
  sftp key remove CLIENT KEY_ID|SHA256:FINGERPRINT
  sftp allow CLIENT ADDR|PREFIX… | --none         replaces the allow-list
  sftp pgp set CLIENT FILE                        statements are then encrypted to this key (gpg --armor --export)
  sftp pgp remove CLIENT
  sftp enable|disable CLIENT
  sftp ftp password CLIENT                        FTP/FTPS access with a new generated password, shown once
                                                  (replaces the old one and ends a hold-off after wrong passwords)
  sftp ftp plain CLIENT on|off                    plain FTP without TLS (needs the client's OpenPGP key)
  sftp ftp remove CLIENT                          ends FTP access (SFTP keys are not affected)
  statement deliver --to CLIENT [--name NAME] [--type statement|tax_form|report] FILE
                                                  streams FILE into the client's folder; the client's user
                                                  also finds it in the portal under that type
  statement list CLIENT
(FILE may be "-" for standard input.)
`

func init() {
	extraCommands["sftp"] = (*client).sftp
	extraCommands["statement"] = (*client).statement
}

// maxKeyFile bounds a key file read by the tool; the server has its own
// limits.
const maxKeyFile = 1 << 20

func readInput(c *client, path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = c.in
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes; is it really a key?", path, maxKeyFile)
	}
	return b, nil
}

// listFlag collects a repeated flag; each value may hold a comma-separated
// list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

type sftpKeyOut struct {
	ID          string `json:"id"`
	Fingerprint string `json:"fingerprint"`
	Type        string `json:"type"`
	Bits        int    `json:"bits"`
	Format      string `json:"format"`
	Comment     string `json:"comment"`
	AddedAt     string `json:"added_at"`
	RevokedAt   string `json:"revoked_at"`
}

type sftpClientOut struct {
	Username       string       `json:"username"`
	User           string       `json:"user"`
	UserID         string       `json:"user_id"`
	AccountID      string       `json:"account_id"`
	AccountClosed  bool         `json:"account_closed"`
	Enabled        bool         `json:"enabled"`
	PGPFingerprint string       `json:"pgp_fingerprint"`
	Keys           []sftpKeyOut `json:"keys"`
	Allow          []string     `json:"allow"`
	QuotaBytes     int64        `json:"quota_bytes"`
	QuotaDefault   bool         `json:"quota_default"`
	UsedBytes      *int64       `json:"used_bytes"`
	UsedFiles      *int64       `json:"used_files"`
	FTP            struct {
		Enabled      bool   `json:"enabled"`
		Plain        bool   `json:"plain"`
		PlainInForce bool   `json:"plain_in_force"`
		Failures     int    `json:"failures"`
		HeldUntil    string `json:"held_until"`
	} `json:"ftp"`
	FTPPassword string   `json:"ftp_password"`
	Warnings    []string `json:"warnings"`
}

// usage shows what the client's folder holds against its quota.
func (o *sftpClientOut) usage() string {
	used := "?"
	if o.UsedBytes != nil {
		used = humanize.IBytes(uint64(*o.UsedBytes))
	}
	return used + "/" + humanize.IBytes(uint64(o.QuotaBytes))
}

// parseQuota reads a quota: "default" (0), a number of bytes, or a size
// with a unit (IEC "MiB", "GiB" or SI "MB", "GB").
func parseQuota(s string) (int64, error) {
	if s == "default" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > math.MaxInt64 {
		return 0, fmt.Errorf("quota %q: give a size such as 1073741824, 500MiB or 2GiB, or \"default\"", s)
	}
	return int64(n), nil
}

func (c *client) warn(ws []string) {
	for _, w := range ws {
		fmt.Fprintln(c.out, "WARNING:", w)
	}
}

func (c *client) printSFTPClient(o *sftpClientOut) {
	state := "enabled"
	if !o.Enabled {
		state = "disabled"
	}
	fmt.Fprintf(c.out, "SFTP client %s (%s) for user %s (%s), account %s", o.Username, state, o.User, o.UserID, o.AccountID)
	if o.AccountClosed {
		fmt.Fprint(c.out, " (closed)")
	}
	fmt.Fprintln(c.out)
	if len(o.Allow) == 0 {
		fmt.Fprintln(c.out, "  allow-list: (empty: nobody can connect)")
	} else {
		fmt.Fprintln(c.out, "  allow-list:", strings.Join(o.Allow, " "))
	}
	quota := "its own quota"
	if o.QuotaDefault {
		quota = "the default quota (sftp.default_quota_bytes)"
	}
	fmt.Fprintf(c.out, "  storage: %s used of %s", o.usage(), quota)
	if o.UsedFiles != nil {
		fmt.Fprintf(c.out, "; %d files and folders (sftp.quota_files bounds them)", *o.UsedFiles)
	}
	fmt.Fprintln(c.out)
	if o.PGPFingerprint != "" {
		fmt.Fprintln(c.out, "  statements encrypted to OpenPGP key", o.PGPFingerprint)
	} else {
		fmt.Fprintln(c.out, "  statements delivered unencrypted (no OpenPGP key)")
	}
	switch f := o.FTP; {
	case !f.Enabled:
		fmt.Fprintln(c.out, "  FTP: no access")
	case f.PlainInForce:
		fmt.Fprintln(c.out, "  FTP: password set; FTPS, or plain FTP (its files are PGP-encrypted)")
	default:
		fmt.Fprintln(c.out, "  FTP: password set; FTPS only")
	}
	if o.FTP.Failures > 0 {
		fmt.Fprintf(c.out, "  FTP: %d wrong passwords in a row\n", o.FTP.Failures)
	}
	for _, k := range o.Keys {
		status := "active since " + shortTime(k.AddedAt)
		if k.RevokedAt != "" {
			status = "REVOKED " + shortTime(k.RevokedAt)
		}
		fmt.Fprintf(c.out, "  key %s %s %s %d bits, sent as %s, %q, %s\n", k.ID, k.Fingerprint, k.Type, k.Bits, k.Format, k.Comment, status)
	}
	c.warn(o.Warnings)
}

func clientPath(name string, rest ...string) string {
	p := "/api/v1/ops/sftp/clients/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func (c *client) sftp(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.out, sftpUsage)
		return errors.New("sftp needs a command")
	}
	switch args[0] {
	case "hostkey", "server":
		var out struct {
			Enabled     bool   `json:"enabled"`
			Listen      string `json:"listen"`
			Fingerprint string `json:"host_key_fingerprint"`
			HostKey     string `json:"host_key"`
			Retention   int    `json:"retention_days"`
			Root        string `json:"root"`
			Spool       string `json:"spool"`
			FTP         *struct {
				Listen       string `json:"listen"`
				TLS          bool   `json:"tls"`
				RequireTLS   bool   `json:"require_tls"`
				PassivePorts string `json:"passive_ports"`
			} `json:"ftp"`
		}
		if err := c.do("GET", "/api/v1/ops/sftp/server", nil, &out); err != nil {
			return err
		}
		if !out.Enabled {
			return errors.New("SFTP statement delivery is switched off on this server (sftp.enabled is false)")
		}
		fmt.Fprintf(c.out, "address      %s\nfingerprint  %s\nhost key     %s\nretention    %d days\nfolders      %s\nspool        %s\n",
			out.Listen, out.Fingerprint, out.HostKey, out.Retention, out.Root, out.Spool)
		if f := out.FTP; f != nil {
			tls := "FTPS (AUTH TLS) required, plain FTP only for clients allowed it"
			if !f.RequireTLS {
				tls = "FTPS offered, not required"
			}
			fmt.Fprintf(c.out, "ftp address  %s\nftp passive  %s\nftp tls      %s\n", f.Listen, f.PassivePorts, tls)
		}
		return nil
	case "register":
		return c.sftpRegister(args[1:])
	case "list":
		var out struct {
			Clients []sftpClientOut `json:"clients"`
		}
		if err := c.do("GET", "/api/v1/ops/sftp/clients", nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "%-24s %-9s %-20s %-5s %-4s %-22s %s\n", "CLIENT", "STATE", "USER", "KEYS", "PGP", "USED/QUOTA", "ALLOW")
		for _, o := range out.Clients {
			state, pgp := "enabled", "no"
			if !o.Enabled {
				state = "disabled"
			}
			if o.PGPFingerprint != "" {
				pgp = "yes"
			}
			fmt.Fprintf(c.out, "%-24s %-9s %-20s %-5d %-4s %-22s %s\n", o.Username, state, o.User, len(o.Keys), pgp, o.usage(), strings.Join(o.Allow, " "))
		}
		return nil
	case "show":
		name, err := one("sftp show", args[1:])
		if err != nil {
			return err
		}
		var out sftpClientOut
		if err := c.do("GET", clientPath(name), nil, &out); err != nil {
			return err
		}
		c.printSFTPClient(&out)
		return nil
	case "key":
		return c.sftpKey(args[1:])
	case "allow":
		var none bool
		pos, err := flags("sftp allow", args[1:], func(fs *flag.FlagSet) { fs.BoolVar(&none, "none", false, "") })
		if err != nil {
			return err
		}
		if len(pos) < 1 || (len(pos) == 1) != none {
			return errors.New("usage: sftp allow CLIENT ADDR|PREFIX… (or --none to admit nobody)")
		}
		var list listFlag
		for _, p := range pos[1:] {
			list.Set(p)
		}
		if list == nil {
			list = listFlag{}
		}
		var out sftpClientOut
		if err := c.do("PUT", clientPath(pos[0], "allow"), map[string]any{"allow": list}, &out); err != nil {
			return err
		}
		c.printSFTPClient(&out)
		return nil
	case "quota":
		if len(args) != 3 {
			return errors.New("usage: sftp quota CLIENT SIZE|default")
		}
		q, err := parseQuota(args[2])
		if err != nil {
			return err
		}
		var out sftpClientOut
		if err := c.do("PUT", clientPath(args[1], "quota"), map[string]any{"quota_bytes": q}, &out); err != nil {
			return err
		}
		c.printSFTPClient(&out)
		return nil
	case "pgp":
		return c.sftpPGP(args[1:])
	case "ftp":
		return c.sftpFTP(args[1:])
	case "enable", "disable":
		name, err := one("sftp "+args[0], args[1:])
		if err != nil {
			return err
		}
		var out sftpClientOut
		if err := c.do("POST", clientPath(name, args[0]), nil, &out); err != nil {
			return err
		}
		c.printSFTPClient(&out)
		return nil
	case "help":
		fmt.Fprint(c.out, sftpUsage)
		return nil
	}
	fmt.Fprint(c.out, sftpUsage)
	return fmt.Errorf("unknown sftp command %q", args[0])
}

func (c *client) sftpRegister(args []string) error {
	var user, pgp, quota string
	var keyFiles, allow listFlag
	var disabled, ftp bool
	pos, err := flags("sftp register", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&ftp, "ftp", false, "")
		fs.StringVar(&user, "user", "", "")
		fs.Var(&keyFiles, "key", "")
		fs.Var(&allow, "allow", "")
		fs.StringVar(&pgp, "pgp", "", "")
		fs.BoolVar(&disabled, "disabled", false, "")
		fs.StringVar(&quota, "quota", "default", "")
	})
	if err != nil {
		return err
	}
	name, err := one("sftp register", pos)
	if err != nil {
		return err
	}
	quotaBytes, err := parseQuota(quota)
	if err != nil {
		return fmt.Errorf("--quota: %w", err)
	}
	var keys []string
	for _, f := range keyFiles {
		b, err := readInput(c, f)
		if err != nil {
			return fmt.Errorf("--key: %w", err)
		}
		keys = append(keys, string(b))
	}
	var pgpKey []byte
	if pgp != "" {
		if pgpKey, err = readInput(c, pgp); err != nil {
			return fmt.Errorf("--pgp: %w", err)
		}
	}
	if allow == nil {
		allow = listFlag{}
	}
	var out sftpClientOut
	if keys == nil {
		keys = []string{}
	}
	body := map[string]any{"username": name, "user": user, "keys": keys, "allow": allow, "disabled": disabled, "quota_bytes": quotaBytes, "ftp": ftp}
	if err := c.do("POST", "/api/v1/ops/sftp/clients", body, &out); err != nil {
		return err
	}
	if pgpKey != nil {
		if err := c.setPGP(out.Username, pgpKey); err != nil {
			c.printSFTPClient(&out)
			return fmt.Errorf("the client was registered, but its OpenPGP key was not: %w", err)
		}
		password := out.FTPPassword
		if err := c.do("GET", clientPath(out.Username), nil, &out); err != nil {
			return err
		}
		out.Warnings, out.FTPPassword = nil, password
	}
	fmt.Fprintln(c.out, "registered:")
	c.printSFTPClient(&out)
	c.printFTPPassword(out.Username, out.FTPPassword)
	return nil
}

// printFTPPassword shows a generated FTP password, the one time it exists.
func (c *client) printFTPPassword(client, password string) {
	if password == "" {
		return
	}
	fmt.Fprintf(c.out, "FTP password for %s (shown once, not stored; send it apart from the username):\n%s\n", client, password)
}

func (c *client) sftpFTP(args []string) error {
	const usage = "usage: sftp ftp password CLIENT | sftp ftp plain CLIENT on|off | sftp ftp remove CLIENT"
	switch {
	case len(args) == 2 && args[0] == "password":
		var out struct {
			Client   string `json:"client"`
			Password string `json:"password"`
		}
		if err := c.do("POST", clientPath(args[1], "ftp", "password"), nil, &out); err != nil {
			return err
		}
		c.printFTPPassword(out.Client, out.Password)
		return nil
	case len(args) == 3 && args[0] == "plain" && (args[2] == "on" || args[2] == "off"):
		var out sftpClientOut
		if err := c.do("PUT", clientPath(args[1], "ftp", "plain"), map[string]any{"allowed": args[2] == "on"}, &out); err != nil {
			return err
		}
		c.printSFTPClient(&out)
		return nil
	case len(args) == 2 && args[0] == "remove":
		var out sftpClientOut
		if err := c.do("DELETE", clientPath(args[1], "ftp"), nil, &out); err != nil {
			return err
		}
		c.printSFTPClient(&out)
		return nil
	}
	return errors.New(usage)
}

func (c *client) sftpKey(args []string) error {
	if len(args) != 3 || (args[0] != "add" && args[0] != "remove") {
		return errors.New("usage: sftp key add CLIENT FILE | sftp key remove CLIENT KEY_ID|SHA256:FINGERPRINT")
	}
	name := args[1]
	if args[0] == "add" {
		b, err := readInput(c, args[2])
		if err != nil {
			return err
		}
		var out struct {
			Key      sftpKeyOut `json:"key"`
			Warnings []string   `json:"warnings"`
		}
		if err := c.do("POST", clientPath(name, "keys"), map[string]any{"key": string(b)}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "key %s %s (%s, %d bits, sent as %s) added to %s\n", out.Key.ID, out.Key.Fingerprint, out.Key.Type, out.Key.Bits, out.Key.Format, name)
		c.warn(out.Warnings)
		return nil
	}
	id := args[2]
	if strings.HasPrefix(id, "SHA256:") {
		// Fingerprints hold "/" and "+", so the API takes the key id; find
		// it among the client's active keys.
		var cl sftpClientOut
		if err := c.do("GET", clientPath(name), nil, &cl); err != nil {
			return err
		}
		found := ""
		for _, k := range cl.Keys {
			if k.Fingerprint == id && k.RevokedAt == "" {
				found = k.ID
			}
		}
		if found == "" {
			return fmt.Errorf("%s has no active key %s", name, id)
		}
		id = found
	}
	var out struct {
		Revoked  string   `json:"revoked"`
		Active   int      `json:"active_keys"`
		Warnings []string `json:"warnings"`
	}
	if err := c.do("DELETE", clientPath(name, "keys", id), nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "key %s of %s revoked; %d active key(s) left\n", out.Revoked, name, out.Active)
	c.warn(out.Warnings)
	return nil
}

func (c *client) sftpPGP(args []string) error {
	switch {
	case len(args) == 3 && args[0] == "set":
		b, err := readInput(c, args[2])
		if err != nil {
			return err
		}
		return c.setPGP(args[1], b)
	case len(args) == 2 && args[0] == "remove":
		var out struct {
			Warnings []string `json:"warnings"`
		}
		if err := c.do("DELETE", clientPath(args[1], "pgp"), nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "OpenPGP key of %s removed\n", args[1])
		c.warn(out.Warnings)
		return nil
	}
	return errors.New("usage: sftp pgp set CLIENT FILE | sftp pgp remove CLIENT")
}

func (c *client) setPGP(name string, key []byte) error {
	var out struct {
		Fingerprint string   `json:"pgp_fingerprint"`
		UserIDs     []string `json:"user_ids"`
	}
	if err := c.doRaw("PUT", clientPath(name, "pgp"), "application/pgp-keys", bytes.NewReader(key), int64(len(key)), &out, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "statements for %s will be encrypted to OpenPGP key %s (%s)\n", name, out.Fingerprint, strings.Join(out.UserIDs, ", "))
	return nil
}

func (c *client) statement(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: statement deliver --to CLIENT [--name NAME] [--type statement|tax_form|report] FILE | statement list CLIENT")
	}
	switch args[0] {
	case "deliver":
		var to, name, kind string
		pos, err := flags("statement deliver", args[1:], func(fs *flag.FlagSet) {
			fs.StringVar(&to, "to", "", "")
			fs.StringVar(&name, "name", "", "")
			fs.StringVar(&kind, "type", "statement", "")
		})
		if err != nil {
			return err
		}
		file, err := one("statement deliver", pos)
		if err != nil {
			return err
		}
		if to == "" {
			return errors.New("statement deliver: --to CLIENT is required")
		}
		if name == "" {
			if file == "-" {
				return errors.New("statement deliver: --name is required when the statement comes from standard input")
			}
			name = filepath.Base(file)
		}
		var body io.Reader = c.in
		size := int64(-1)
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			body, size = f, fi.Size()
		}
		// No overall timeout: a large statement takes as long as it takes;
		// the server bounds it on its side.
		hc := *c.api.HTTP
		hc.Timeout = 0
		var out struct {
			Client    string `json:"client"`
			File      string `json:"file"`
			Type      string `json:"type"`
			Bytes     int64  `json:"bytes"`
			Encrypted bool   `json:"encrypted"`
		}
		start := time.Now()
		path := clientPath(to, "statements") + "?name=" + url.QueryEscape(name) + "&type=" + url.QueryEscape(kind)
		if err := c.doRaw("POST", path, "application/octet-stream", body, size, &out, &hc); err != nil {
			return err
		}
		how := "unencrypted"
		if out.Encrypted {
			how = "encrypted to the client's OpenPGP key"
		}
		fmt.Fprintf(c.out, "delivered %s %s to %s (%d bytes, %s) in %s\n", out.Type, out.File, out.Client, out.Bytes, how, time.Since(start).Round(time.Millisecond))
		return nil
	case "list":
		name, err := one("statement list", args[1:])
		if err != nil {
			return err
		}
		var out struct {
			Statements []struct {
				Name       string `json:"name"`
				Bytes      int64  `json:"bytes"`
				Modified   string `json:"modified"`
				Encrypted  bool   `json:"encrypted"`
				PurgeAfter string `json:"purge_after"`
			} `json:"statements"`
		}
		if err := c.do("GET", clientPath(name, "statements"), nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "%-40s %12s %-20s %-20s %s\n", "NAME", "BYTES", "DELIVERED", "PURGED AFTER", "ENCRYPTED")
		for _, s := range out.Statements {
			fmt.Fprintf(c.out, "%-40s %12d %-20s %-20s %v\n", s.Name, s.Bytes, shortTime(s.Modified), shortTime(s.PurgeAfter), s.Encrypted)
		}
		return nil
	}
	return fmt.Errorf("unknown statement command %q", args[0])
}

// shortTime shows an API time to the second.
func shortTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
