package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
)

func init() { extraCommands["totp"] = (*client).totpCmd }

const totpUsage = `usage: totp issue USER [--label NAME]      print the otpauth:// URI of a new authenticator app (dual control totp.issue)
       totp confirm USER DEVICE CODE       activate it with its first code`

// totpCmd enrols authenticator apps for scripted setups: the URI goes to
// standard output, so that a script can hand it to an app (or compute
// codes from its secret) and confirm with the first code.
func (c *client) totpCmd(args []string) error {
	if len(args) == 0 {
		return errors.New(totpUsage)
	}
	switch args[0] {
	case "issue":
		var label string
		pos, err := flags("totp issue", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&label, "label", "", "") })
		if err != nil {
			return err
		}
		user, err := one("totp issue", pos)
		if err != nil {
			return err
		}
		var out struct {
			Device struct {
				ID        string `json:"id"`
				ExpiresAt string `json:"expires_at"`
			} `json:"device"`
			URI string `json:"otpauth_uri"`
		}
		if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(user)+"/totp", map[string]string{"label": label}, &out); err != nil {
			return err
		}
		fmt.Fprintln(c.out, out.URI)
		fmt.Fprintf(c.out, "# device %s is pending until its first code: slsctl totp confirm %s %s CODE (before %s)\n",
			out.Device.ID, user, out.Device.ID, out.Device.ExpiresAt)
		return nil
	case "confirm":
		if len(args) != 4 {
			return errors.New(totpUsage)
		}
		var out struct {
			Device struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"device"`
		}
		path := "/api/v1/ops/users/" + url.PathEscape(args[1]) + "/totp/" + url.PathEscape(args[2]) + "/confirm"
		if err := c.do("POST", path, map[string]string{"code": args[3]}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "device %s is %s\n", out.Device.ID, out.Device.State)
		return nil
	}
	return errors.New(totpUsage)
}
