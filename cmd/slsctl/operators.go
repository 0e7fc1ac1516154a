package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tokenless are the commands that run without an operator token: they
// make one.
var tokenless = map[string]func(c *client, args []string) error{
	"bootstrap": (*client).bootstrap,
	"login":     (*client).login,
}

func init() {
	extraCommands["logout"] = (*client).logout
	extraCommands["whoami"] = (*client).whoami
	extraCommands["operator"] = (*client).operator
	extraCommands["approval"] = (*client).approvalCmd
}

// saveToken keeps a new token in the token file (mode 0600, directory
// 0700), replacing the file atomically.
func (c *client) saveToken(tok operatorToken) error {
	if err := os.MkdirAll(filepath.Dir(c.tokenFile), 0o700); err != nil {
		return err
	}
	tmp := c.tokenFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok.Token+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.tokenFile); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "Logged in as %s (%s) until %s; token kept in %s\n", tok.Operator.Name,
		strings.Join(tok.Operator.Roles, ", "), tok.ExpiresAt.Local().Format(time.RFC1123), c.tokenFile)
	return nil
}

type operatorView struct {
	Name       string    `json:"name"`
	Roles      []string  `json:"roles"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	DisabledAt time.Time `json:"disabled_at"`
}

type operatorToken struct {
	Token     string       `json:"token"`
	Operator  operatorView `json:"operator"`
	ExpiresAt time.Time    `json:"expires_at"`
}

func (c *client) bootstrap(args []string) error {
	var secretFile, name, roles, pin, outPath string
	if _, err := flags("bootstrap", args, func(fs *flag.FlagSet) {
		fs.StringVar(&secretFile, "secret-file", "", "")
		fs.StringVar(&name, "name", "", "")
		fs.StringVar(&roles, "roles", "all", "")
		fs.StringVar(&pin, "pin", "", "")
		fs.StringVar(&outPath, "out", "", "")
	}); err != nil {
		return err
	}
	if secretFile == "" || name == "" || pin == "" {
		return errors.New("usage: bootstrap --secret-file DATA/bootstrap.secret --name NAME --pin PIN [--roles all] [--out card.json] (password on standard input)")
	}
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		return fmt.Errorf("bootstrap secret: %w", err)
	}
	password, err := c.line("password")
	if err != nil {
		return err
	}
	var out struct {
		operatorToken
		Device   device `json:"device"`
		CardFile string `json:"card_file"`
	}
	if err := c.do("POST", "/api/v1/ops/bootstrap", map[string]any{"secret": strings.TrimSpace(string(secret)), "name": name,
		"password": password, "roles": splitRoles(roles), "pin": pin}, &out); err != nil {
		return err
	}
	if err := c.saveToken(out.operatorToken); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "The bootstrap secret is spent. Your DSC+ %s (device %s) logs you in from now on (slsctl login %s).\n", out.Device.Serial, out.Device.ID, name)
	return c.cardFile(out.CardFile, outPath)
}

func splitRoles(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

type loginStep struct {
	LoginID string `json:"login_id"`
	State   string `json:"state"`
	Devices []struct {
		ID     string `json:"id"`
		Kind   string `json:"kind"`
		Title  string `json:"title"`
		Serial string `json:"serial"`
	} `json:"devices"`
	Prompt *struct {
		Kind        string `json:"kind"`
		Message     string `json:"message"`
		Challenge   string `json:"challenge"`
		Indices     []int  `json:"indices"`
		MatchNumber string `json:"match_number"`
	} `json:"prompt"`
	Session *struct {
		Token string `json:"token"`
	} `json:"session"`
}

// login runs an operator's login like a client's: password, then a
// security device, then trades the session for an operator token.
func (c *client) login(args []string) error {
	var deviceID string
	pos, err := flags("login", args, func(fs *flag.FlagSet) { fs.StringVar(&deviceID, "device", "", "") })
	if err != nil {
		return err
	}
	name, err := one("login", pos)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "Password for %s: ", name)
	password, err := c.line("password")
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out)
	var step loginStep
	if err := c.do("POST", "/api/v1/login", map[string]any{"username": name, "password": password, "platform": "portal"}, &step); err != nil {
		return err
	}
	for range 10 {
		switch {
		case step.Session != nil:
			c.api.Token = step.Session.Token
			var tok operatorToken
			if err := c.do("POST", "/api/v1/ops/token", nil, &tok); err != nil {
				return err
			}
			return c.saveToken(tok)
		case step.State == "select_device":
			if deviceID == "" {
				for i, d := range step.Devices {
					fmt.Fprintf(c.out, "  %d) %s %s (%s)\n", i+1, d.Title, d.Serial, d.ID)
				}
				fmt.Fprint(c.out, "Device: ")
				choice, err := c.line("device")
				if err != nil {
					return err
				}
				deviceID = choice
				var n int
				if _, err := fmt.Sscan(choice, &n); err == nil && n >= 1 && n <= len(step.Devices) {
					deviceID = step.Devices[n-1].ID
				}
			}
			if err := c.do("POST", "/api/v1/login/device", map[string]any{"login_id": step.LoginID, "device_id": deviceID}, &step); err != nil {
				return err
			}
		case step.State == "challenged" && step.Prompt != nil:
			p := step.Prompt
			fmt.Fprintln(c.out, p.Message)
			switch {
			case p.Challenge != "":
				fmt.Fprintf(c.out, "Challenge: %s\n", p.Challenge)
			case len(p.Indices) > 0:
				fmt.Fprintf(c.out, "Positions: %v\n", p.Indices)
			case p.MatchNumber != "":
				fmt.Fprintf(c.out, "Number to match in the app: %s\n", p.MatchNumber)
				if err := c.waitPush(&step); err != nil {
					return err
				}
				continue
			}
			fmt.Fprint(c.out, "Response: ")
			resp, err := c.line("response")
			if err != nil {
				return err
			}
			fmt.Fprintln(c.out)
			if err := c.do("POST", "/api/v1/login/answer", map[string]any{"login_id": step.LoginID, "response": resp}, &step); err != nil {
				return err
			}
		default:
			return fmt.Errorf("the login stopped in state %q", step.State)
		}
	}
	return errors.New("the login did not finish")
}

// waitPush polls a push login until it is answered in the app.
func (c *client) waitPush(step *loginStep) error {
	deadline := time.Now().Add(3 * time.Minute)
	id := step.LoginID
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if err := c.do("POST", "/api/v1/login/status", map[string]any{"login_id": id}, step); err != nil {
			return err
		}
		if step.Session != nil {
			return nil
		}
	}
	return errors.New("no answer from the app in time")
}

func (c *client) logout(args []string) error {
	if err := c.do("DELETE", "/api/v1/ops/token", nil, nil); err != nil {
		return err
	}
	os.Remove(c.tokenFile)
	fmt.Fprintln(c.out, "Logged out.")
	return nil
}

func (c *client) whoami(args []string) error {
	var o operatorView
	if err := c.do("GET", "/api/v1/ops/me", nil, &o); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%s (%s)\n", o.Name, strings.Join(o.Roles, ", "))
	return nil
}

const operatorUsage = `usage: operator list | add NAME --roles r1,r2 --pin PIN [--out F] | roles NAME r1,r2 | disable NAME | enable NAME | dscplus NAME --pin PIN [--serial S] [--out F]`

func (c *client) operator(args []string) error {
	if len(args) == 0 {
		return errors.New(operatorUsage)
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		var out struct {
			Operators []operatorView `json:"operators"`
		}
		if err := c.do("GET", "/api/v1/ops/operators", nil, &out); err != nil {
			return err
		}
		for _, o := range out.Operators {
			state := "enabled"
			if !o.DisabledAt.IsZero() {
				state = "disabled " + o.DisabledAt.Format(time.RFC3339)
			}
			fmt.Fprintf(c.out, "%-20s %-60s %s (added by %s)\n", o.Name, strings.Join(o.Roles, ","), state, o.CreatedBy)
		}
		return nil
	case "add":
		var roles, pin, outPath string
		pos, err := flags("operator add", rest, func(fs *flag.FlagSet) {
			fs.StringVar(&roles, "roles", "", "")
			fs.StringVar(&pin, "pin", "", "")
			fs.StringVar(&outPath, "out", "", "")
		})
		if err != nil {
			return err
		}
		name, err := one("operator add", pos)
		if err != nil {
			return err
		}
		password, err := c.line("password")
		if err != nil {
			return err
		}
		var out struct {
			Operator operatorView `json:"operator"`
			Device   device       `json:"device"`
			CardFile string       `json:"card_file"`
		}
		if err := c.do("POST", "/api/v1/ops/operators", map[string]any{"name": name, "password": password, "roles": splitRoles(roles), "pin": pin}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Operator %s added (%s) with DSC+ %s (device %s)\n", out.Operator.Name, strings.Join(out.Operator.Roles, ", "), out.Device.Serial, out.Device.ID)
		return c.cardFile(out.CardFile, outPath)
	case "roles":
		if len(rest) != 2 {
			return errors.New("usage: operator roles NAME r1,r2")
		}
		var o operatorView
		if err := c.do("PUT", "/api/v1/ops/operators/"+url.PathEscape(rest[0])+"/roles", map[string]any{"roles": splitRoles(rest[1])}, &o); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "%s now holds %s\n", o.Name, strings.Join(o.Roles, ", "))
		return nil
	case "disable", "enable":
		name, err := one("operator "+sub, rest)
		if err != nil {
			return err
		}
		if err := c.do("POST", "/api/v1/ops/operators/"+url.PathEscape(name)+"/"+sub, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Operator %s %sd.\n", name, sub)
		return nil
	case "dscplus":
		var pin, serial, outPath string
		pos, err := flags("operator dscplus", rest, func(fs *flag.FlagSet) {
			fs.StringVar(&pin, "pin", "", "")
			fs.StringVar(&serial, "serial", "", "")
			fs.StringVar(&outPath, "out", "", "")
		})
		if err != nil {
			return err
		}
		name, err := one("operator dscplus", pos)
		if err != nil {
			return err
		}
		var out struct {
			Device   device `json:"device"`
			CardFile string `json:"card_file"`
		}
		if err := c.do("POST", "/api/v1/ops/operators/"+url.PathEscape(name)+"/dscplus", map[string]any{"pin": pin, "serial": serial}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "DSC+ %s issued to operator %s (device %s)\n", out.Device.Serial, name, out.Device.ID)
		return c.cardFile(out.CardFile, outPath)
	}
	return errors.New(operatorUsage)
}

// cardFile says where the server wrote a card's secrets (its card output
// directory) and, with --out, copies the file when this machine can read
// it (slsctl on the server's host or on a shared volume).
func (c *client) cardFile(serverPath, outPath string) error {
	fmt.Fprintf(c.out, "card file written by the server to %s\n", serverPath)
	if outPath == "" {
		return nil
	}
	in, err := os.Open(serverPath)
	if err != nil {
		return fmt.Errorf("--out: the card file is on the server's host: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "copied to %s\n", outPath)
	return nil
}

type approvalView struct {
	ID          string    `json:"id"`
	Action      string    `json:"action"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Roles       []string  `json:"roles"`
	RequestedBy string    `json:"requested_by"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	DecidedBy   string    `json:"decided_by"`
	State       string    `json:"state"`
}

func (c *client) approvalCmd(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: approval list [--state S] | approval approve ID | approval deny ID")
	}
	switch args[0] {
	case "list":
		var state string
		if _, err := flags("approval list", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&state, "state", "", "") }); err != nil {
			return err
		}
		var out struct {
			Approvals []approvalView `json:"approvals"`
		}
		if err := c.do("GET", "/api/v1/ops/approvals?state="+url.QueryEscape(state), nil, &out); err != nil {
			return err
		}
		for _, a := range out.Approvals {
			fmt.Fprintf(c.out, "%s %-9s %-20s %s %s by %s until %s %s\n", a.ID, a.State, a.Action, a.Method, a.Path, a.RequestedBy,
				a.ExpiresAt.Format(time.RFC3339), a.DecidedBy)
		}
		return nil
	case "approve", "deny":
		id, err := one("approval "+args[0], args[1:])
		if err != nil {
			return err
		}
		var a approvalView
		if err := c.do("POST", "/api/v1/ops/approvals/"+url.PathEscape(id)+"/"+args[0], nil, &a); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Approval %s %s: %s %s %s (asked by %s)\n", a.ID, a.State, a.Action, a.Method, a.Path, a.RequestedBy)
		return nil
	}
	return fmt.Errorf("unknown approval command %q", args[0])
}
