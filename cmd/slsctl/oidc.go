package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
)

func init() { extraCommands["oidc"] = (*client).oidcCmd }

const oidcUsage = `usage: oidc client add ID --name NAME --redirect URI[,URI] [--public] [--post-logout URI[,URI]]
                       [--scopes profile,email,offline_access,…] [--acr VALUE[,VALUE]] [--skip-consent]
       oidc client list | oidc client remove ID
       oidc keys | oidc keys rotate`

type oidcClient struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Confidential   bool     `json:"confidential,omitempty"`
	Public         bool     `json:"public,omitempty"`
	RedirectURIs   []string `json:"redirect_uris"`
	PostLogoutURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Scopes         []string `json:"scopes,omitempty"`
	ACRValues      []string `json:"acr_values,omitempty"`
	SkipConsent    bool     `json:"skip_consent,omitempty"`
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// oidcCmd registers the applications that log their users in through the
// OpenID Connect provider, and shows or rotates its signing keys.
func (c *client) oidcCmd(args []string) error {
	if len(args) == 0 {
		return errors.New(oidcUsage)
	}
	switch {
	case args[0] == "client" && len(args) >= 2 && args[1] == "add":
		var spec oidcClient
		var public bool
		var redirect, logout, scopes, acr string
		pos, err := flags("oidc client add", args[2:], func(fs *flag.FlagSet) {
			fs.StringVar(&spec.Name, "name", "", "")
			fs.StringVar(&redirect, "redirect", "", "")
			fs.StringVar(&logout, "post-logout", "", "")
			fs.StringVar(&scopes, "scopes", "", "")
			fs.StringVar(&acr, "acr", "", "")
			fs.BoolVar(&public, "public", false, "")
			fs.BoolVar(&spec.SkipConsent, "skip-consent", false, "")
		})
		if err != nil {
			return err
		}
		if spec.ID, err = one("oidc client add", pos); err != nil {
			return err
		}
		spec.Public = public
		spec.RedirectURIs, spec.PostLogoutURIs, spec.Scopes, spec.ACRValues = splitList(redirect), splitList(logout), splitList(scopes), splitList(acr)
		var out struct {
			Client       oidcClient `json:"client"`
			Issuer       string     `json:"issuer"`
			ClientSecret string     `json:"client_secret"`
		}
		if err := c.do("POST", "/api/v1/ops/oidc/clients", spec, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "client %s registered with issuer %s\n", out.Client.ID, out.Issuer)
		if out.ClientSecret != "" {
			fmt.Fprintf(c.out, "client secret (shown once; store it in the application's secret store): %s\n", out.ClientSecret)
		} else {
			fmt.Fprintln(c.out, "public client: no secret; it must use PKCE (S256)")
		}
		return nil
	case args[0] == "client" && len(args) == 2 && args[1] == "list":
		var out struct {
			Issuer  string       `json:"issuer"`
			Clients []oidcClient `json:"clients"`
		}
		if err := c.do("GET", "/api/v1/ops/oidc/clients", nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "issuer %s\n", out.Issuer)
		for _, cl := range out.Clients {
			kind := "confidential"
			if !cl.Confidential {
				kind = "public"
			}
			fmt.Fprintf(c.out, "%-24s %-12s %q redirect=%s scopes=%s acr=%s skip_consent=%v\n", cl.ID, kind, cl.Name,
				strings.Join(cl.RedirectURIs, ","), strings.Join(cl.Scopes, ","), strings.Join(cl.ACRValues, ","), cl.SkipConsent)
		}
		return nil
	case args[0] == "client" && len(args) == 3 && args[1] == "remove":
		if err := c.do("DELETE", "/api/v1/ops/oidc/clients/"+url.PathEscape(args[2]), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "client %s removed; its tokens no longer work\n", args[2])
		return nil
	case args[0] == "keys" && (len(args) == 1 || (len(args) == 2 && args[1] == "rotate")):
		method, path := "GET", "/api/v1/ops/oidc/keys"
		if len(args) == 2 {
			method, path = "POST", "/api/v1/ops/oidc/keys/rotate"
		}
		var out struct {
			Keys []struct {
				ID       string `json:"kid"`
				State    string `json:"state"`
				ActiveAt string `json:"active_at"`
				RetireAt string `json:"retire_at"`
			} `json:"keys"`
		}
		if err := c.do(method, path, nil, &out); err != nil {
			return err
		}
		for _, k := range out.Keys {
			line := fmt.Sprintf("%s %-8s active from %s", k.ID, k.State, k.ActiveAt)
			if k.RetireAt != "" {
				line += ", leaves the key set " + k.RetireAt
			}
			fmt.Fprintln(c.out, line)
		}
		return nil
	}
	return errors.New(oidcUsage)
}
