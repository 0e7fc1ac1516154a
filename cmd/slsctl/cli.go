package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	apiclient "github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/version"
)

// Exit codes: scripts tell a mistake in the command from an answer of
// the server.
const (
	exitOK          = 0
	exitFailed      = 1 // anything else (a server error, a local file…)
	exitUsage       = 2 // the command line is wrong
	exitNotFound    = 3 // the server knows no such user, device, client…
	exitRefused     = 4 // not allowed: no or expired token, a role, dual control, a rule
	exitUnreachable = 5 // no answer from the server
	exitTampered    = 6 // audit verify: the trail does not verify
)

// codedError carries an exit code a command decided itself.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// exitCode maps err to an exit code; a request waiting for a second
// operator's approval also says what to do next.
func exitCode(c *client, err error) (int, error) {
	if err == nil {
		return exitOK, nil
	}
	var ae *apiclient.Error
	var un *apiclient.UnreachableError
	var ce *codedError
	switch {
	case errors.As(err, &ce) && ce.code != exitFailed:
		return ce.code, ce.err
	case errors.As(err, &un):
		return exitUnreachable, err
	case errors.As(err, &ae):
		if ae.Code == "approval_required" {
			if id, _ := ae.Detail["approval_id"].(string); id != "" {
				fmt.Fprintf(c.out, "Dual control: approval %s is waiting for a second operator:\n  slsctl approval approve %s\nthen run this same command again with --approval %s.\n", id, id, id)
			}
		}
		switch {
		case ae.Code == "not_found":
			return exitNotFound, err
		case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden || ae.Status == http.StatusTooManyRequests:
			return exitRefused, err
		}
		return exitFailed, err
	case isUsage(err):
		return exitUsage, err
	}
	return exitFailed, err
}

// isUsage reports a mistake in the command line (a sub-command's usage,
// an unknown flag, a missing argument).
func isUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "usage:") || strings.Contains(m, "flag provided but not defined") ||
		strings.Contains(m, "needs exactly one argument") || strings.HasPrefix(m, "unknown command")
}

// commandHelp is the part of the usage text about command name: its lines
// and their continuations.
func commandHelp(name string) string {
	var out []string
	in := false
	for _, l := range strings.Split(usage+"\n"+policyUsage+"\n"+sftpUsage+"\n"+diagnosticsUsage, "\n") {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") && len(f) > 0:
			in = f[0] == name
		case !strings.HasPrefix(l, "   "):
			in = false
		}
		if in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// summaries are the one-line descriptions of the commands.
var summaries = map[string]string{
	"bootstrap": "create the first operator with the one-time bootstrap secret", "login": "log in as an operator and keep the token",
	"logout": "end the operator token", "whoami": "show the operator of the token", "operator": "named operators and their roles",
	"approval": "dual control: approve or deny another operator's request", "account": "brokerage accounts", "user": "clients: create, show, change, disable, delete",
	"devices": "list a user's security devices", "dscplus": "issue a Digital Security Card+", "codecard": "issue a printed Security Code Card",
	"temppasscode": "issue a temporary passcode", "totp": "enrol an authenticator app for a scripted setup", "device": "suspend, resume, revoke or activate a device",
	"lock": "lock a user", "unlock": "unlock a user", "sessions": "list or end a user's sessions", "audit": "the audit trail: list, verify, export, keys",
	"seal": "sealing keys: status and rotation", "oidc": "OpenID Connect applications and signing keys", "backup": "an online backup of the SQLite database",
	"sink": "the test message sink (demo)", "outbox": "queued messages", "message": "secure messages", "policy": "account protection and the device lifecycle",
	"sftp": "statement delivery over SFTP", "statement": "deliver statements",
	"orders": "device orders: list, ship, deliver, receive", "deposits": "an account's device deposit ledger",
	"close-account": "close an account", "shipping-address": "a user's shipping address", "rates": "exchange rates for limits",
	"holidays": "business-day holidays", "protection": "a user's account protection", "ip-restrictions": "a user's trading IP restrictions",
	"sharing": "device sharing between usernames of one person", "withdrawals": "an account's withdrawals and funding",
	"crypto": "cryptocurrency holdings and the custody-fee ledger (Hong Kong entity)",
}

// newRoot builds the command tree. Each command's own arguments are
// parsed by the command (they predate this tree), so the tree gives them
// help, completion and the global flags.
func newRoot(stdin io.Reader, stdout io.Writer, code *int) *cobra.Command {
	var server, tokenFile, approval, output string
	root := &cobra.Command{
		Use:               "slsctl",
		Short:             "operate a Secure Login System server",
		Long:              usage,
		Version:           strings.TrimPrefix(version.String("slsctl"), "slsctl "),
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetOut(stdout)
	root.SetErr(stdout)
	root.SetIn(stdin)
	pf := root.PersistentFlags()
	pf.StringVar(&server, "server", envOr("SLS_SERVER", "http://127.0.0.1:8080"), "server address (the admin listener when slsd runs with --admin-listen)")
	pf.StringVar(&tokenFile, "token-file", envOr("SLS_TOKEN_FILE", apiclient.DefaultTokenFile()), "operator token file")
	pf.StringVar(&approval, "approval", "", "present a second operator's approval (dual control)")
	pf.StringVarP(&output, "output", "o", "text", "text, or json: print the server's answer as JSON")

	names := slices.Sorted(maps.Keys(extraCommands))
	for name := range tokenless {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cmd := &cobra.Command{
			Use:                name,
			Short:              summaries[name],
			Long:               commandHelp(name),
			DisableFlagParsing: true,
			RunE: func(cmd *cobra.Command, args []string) error {
				// The command parses its own arguments, so the global
				// flags (given before the command, which cobra hands over
				// with the rest) are read here, up to the first argument
				// that is not one of them.
				args, err := leadingGlobals(root.PersistentFlags(), args)
				if errors.Is(err, pflag.ErrHelp) {
					return cmd.Help()
				} else if err != nil {
					*code = exitUsage
					return err
				}
				if slices.Contains(args, "-h") || slices.Contains(args, "--help") {
					return cmd.Help()
				}
				if output != "text" && output != "json" {
					*code = exitUsage
					return fmt.Errorf("usage: --output text|json, not %q", output)
				}
				api := apiclient.New(server, "")
				api.Approval, api.HTTP = approval, &http.Client{Timeout: apiclient.DefaultTimeout}
				c := &client{api: api, tokenFile: tokenFile, out: stdout, in: stdin}
				if output == "json" {
					c.out = io.Discard // the answer, not the text, goes out
				}
				if fn, ok := tokenless[name]; ok {
					err = fn(c, args)
				} else if tok, terr := apiclient.ReadTokenFile(tokenFile); terr != nil {
					*code = exitRefused
					return terr
				} else {
					c.api.Token = tok
					err = extraCommands[name](c, args)
				}
				c.out = stdout
				*code, err = exitCode(c, err)
				if err == nil && output == "json" {
					var buf bytes.Buffer
					if len(c.last) == 0 || json.Indent(&buf, c.last, "", "  ") != nil {
						buf.Reset()
						buf.WriteString("null")
					}
					fmt.Fprintln(stdout, buf.String())
				}
				return err
			},
		}
		root.AddCommand(cmd)
	}
	return root
}

// leadingGlobals sets the global flags that lead args and returns the
// rest, which belongs to the command.
func leadingGlobals(fs *pflag.FlagSet, args []string) ([]string, error) {
	for len(args) > 0 {
		a := args[0]
		if a == "-h" || a == "--help" {
			return nil, pflag.ErrHelp
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			break
		}
		f := fs.Lookup(name)
		if f == nil && len(name) == 1 {
			f = fs.ShorthandLookup(name)
		}
		if f == nil {
			break // the command's own flag
		}
		if !hasValue {
			if len(args) < 2 {
				return nil, fmt.Errorf("usage: %s needs a value", a)
			}
			value, args = args[1], args[1:]
		}
		if err := f.Value.Set(value); err != nil {
			return nil, fmt.Errorf("usage: %s: %w", a, err)
		}
		args = args[1:]
	}
	return args, nil
}

// The commands of main.go and audit.go, beside those other files
// register.
func init() {
	for name, fn := range map[string]func(*client, []string) error{
		"account": (*client).account, "user": (*client).user, "devices": (*client).devices, "dscplus": (*client).dscplus,
		"codecard": (*client).codecard, "temppasscode": (*client).temppasscode, "device": (*client).device,
		"unlock": (*client).unlock, "audit": (*client).auditCoded,
	} {
		extraCommands[name] = fn
	}
}

// auditCoded is audit with its exit status carried in the error.
func (c *client) auditCoded(args []string) error {
	code, err := c.audit(args)
	if err == nil && code != exitOK {
		err = fmt.Errorf("audit: exit %d", code)
	}
	if err != nil {
		return &codedError{code: code, err: err}
	}
	return nil
}

func run(args []string, stdin io.Reader, stdout io.Writer) (int, error) {
	code := exitOK
	root := newRoot(stdin, stdout, &code)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		if code == exitOK {
			code = exitUsage // cobra's own refusals: an unknown command or flag
		}
		return code, err
	}
	return code, nil
}
