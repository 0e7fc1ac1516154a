package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
)

const policyUsage = `Account protection and the device lifecycle:
  orders list [--state S] [--user NAME] [--account ID]
  orders show ORDER                               history, deposit entries, shipping address
  orders ship ORDER --carrier C --tracking T [--serial S] --out card.json
                                                  makes the card; card.json is what the physical card holds
  orders deliver ORDER [--at RFC3339]             the carrier delivered it (auto-activation 3 weeks later)
  orders receive ORDER [--assessment intact|deliberately_damaged] [--note N]
  orders event ORDER EVENT [--note N]             cancel, undeliverable, lost_in_shipping, return_lost,
                                                  report_lost, report_stolen, report_damaged, send_return
  deposits ACCOUNT                                the deposit ledger and its totals
  close-account ACCOUNT --reason R                deactivate devices, end sessions, settle deposits
  shipping-address NAME --address TEXT            address on file ("\n" between lines; "-": standard input)
  rates list | rates set CUR=RATE… | rates delete CUR     USD per unit, e.g. rates set EUR=1.0834 JPY=0.0067
  holidays list | holidays add YYYY-MM-DD [--name N] | holidays delete YYYY-MM-DD
  protection NAME                                 participation, IP restrictions, penny-stock permission
  ip-restrictions NAME [ADDR|CIDR…] [--none]      show, or replace a user's trading IP restrictions
  sharing check NAME NAME… --kind KIND            may these users share one device?
  sharing add DEVICE_ID NAME…                     let other usernames of the same person use the device
  withdrawals ACCOUNT [--kind withdrawal|ach_funding] [--since RFC3339]
  withdrawals reverse ID --reason R               a booking the bank did not carry out stops counting
`

func init() {
	extraCommands["policy"] = func(c *client, args []string) error {
		fmt.Fprint(c.out, policyUsage)
		return nil
	}
	extraCommands["orders"] = (*client).orders
	extraCommands["deposits"] = (*client).deposits
	extraCommands["close-account"] = (*client).closeAccount
	extraCommands["shipping-address"] = (*client).shippingAddress
	extraCommands["rates"] = (*client).rates
	extraCommands["holidays"] = (*client).holidays
	extraCommands["protection"] = (*client).protection
	extraCommands["ip-restrictions"] = (*client).ipRestrictions
	extraCommands["sharing"] = (*client).sharing
	extraCommands["withdrawals"] = (*client).withdrawals
}

func esc(s string) string { return url.PathEscape(s) }

func (c *client) orders(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: orders list|show|ship|deliver|receive|event … (see slsctl policy)")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		var state, user, account string
		if _, err := flags("orders list", rest, func(fs *flag.FlagSet) {
			fs.StringVar(&state, "state", "", "")
			fs.StringVar(&user, "user", "", "")
			fs.StringVar(&account, "account", "", "")
		}); err != nil {
			return err
		}
		q := url.Values{}
		for k, v := range map[string]string{"state": state, "user": user, "account": account} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var out struct {
			Orders []struct {
				ID        string `json:"id"`
				UserID    string `json:"user_id"`
				Origin    string `json:"origin"`
				State     string `json:"state"`
				Serial    string `json:"serial"`
				OrderedAt string `json:"ordered_at"`
			} `json:"orders"`
		}
		if err := c.do("GET", "/api/v1/ops/orders?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "%-28s %-20s %-12s %-20s %-14s %s\n", "ORDER", "USER", "ORIGIN", "STATE", "SERIAL", "ORDERED")
		for _, o := range out.Orders {
			fmt.Fprintf(c.out, "%-28s %-20s %-12s %-20s %-14s %s\n", o.ID, o.UserID, o.Origin, o.State, o.Serial, o.OrderedAt)
		}
		return nil
	case "show":
		id, err := one("orders show", rest)
		if err != nil {
			return err
		}
		var out map[string]any
		if err := c.do("GET", "/api/v1/ops/orders/"+esc(id), nil, &out); err != nil {
			return err
		}
		c.printJSON(out)
		return nil
	case "ship":
		var carrier, tracking, serial, outPath string
		pos, err := flags("orders ship", rest, func(fs *flag.FlagSet) {
			fs.StringVar(&carrier, "carrier", "", "")
			fs.StringVar(&tracking, "tracking", "", "")
			fs.StringVar(&serial, "serial", "", "")
			fs.StringVar(&outPath, "out", "", "")
		})
		if err != nil {
			return err
		}
		id, err := one("orders ship", pos)
		if err != nil {
			return err
		}
		var out struct {
			Order struct {
				ID       string `json:"id"`
				Serial   string `json:"serial"`
				DeviceID string `json:"device_id"`
				State    string `json:"state"`
			} `json:"order"`
			CardFile string `json:"card_file"`
		}
		if err := c.do("POST", "/api/v1/ops/orders/"+esc(id)+"/ship", map[string]string{"carrier": carrier, "tracking": tracking, "serial": serial}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "order %s %s: card %s (device %s) shipped by %s, tracking %s\n",
			out.Order.ID, out.Order.State, out.Order.Serial, out.Order.DeviceID, carrier, tracking)
		return c.cardFile(out.CardFile, outPath)
	case "deliver":
		var at string
		pos, err := flags("orders deliver", rest, func(fs *flag.FlagSet) { fs.StringVar(&at, "at", "", "") })
		if err != nil {
			return err
		}
		id, err := one("orders deliver", pos)
		if err != nil {
			return err
		}
		body := map[string]any{}
		if at != "" {
			body["at"] = at
		}
		return c.orderAction(id, "deliver", body)
	case "receive":
		var assessment, note string
		pos, err := flags("orders receive", rest, func(fs *flag.FlagSet) {
			fs.StringVar(&assessment, "assessment", "intact", "")
			fs.StringVar(&note, "note", "", "")
		})
		if err != nil {
			return err
		}
		id, err := one("orders receive", pos)
		if err != nil {
			return err
		}
		return c.orderAction(id, "receive", map[string]any{"assessment": assessment, "note": note})
	case "event":
		var note string
		pos, err := flags("orders event", rest, func(fs *flag.FlagSet) { fs.StringVar(&note, "note", "", "") })
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return errors.New("usage: orders event ORDER EVENT [--note N]")
		}
		return c.orderAction(pos[0], "event", map[string]any{"event": pos[1], "note": note})
	}
	return fmt.Errorf("unknown orders command %q (see slsctl policy)", sub)
}

func (c *client) orderAction(id, action string, body map[string]any) error {
	var out struct {
		ID             string `json:"id"`
		State          string `json:"state"`
		AutoActivateAt string `json:"auto_activate_at"`
	}
	if err := c.do("POST", "/api/v1/ops/orders/"+esc(id)+"/"+action, body, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "order %s: %s", out.ID, out.State)
	if action == "deliver" && out.AutoActivateAt != "" {
		fmt.Fprintf(c.out, " (activates by itself at %s unless the client activates it first)", out.AutoActivateAt)
	}
	fmt.Fprintln(c.out)
	return nil
}

func (c *client) deposits(args []string) error {
	acct, err := one("deposits", args)
	if err != nil {
		return err
	}
	var out map[string]any
	if err := c.do("GET", "/api/v1/ops/accounts/"+esc(acct)+"/deposits", nil, &out); err != nil {
		return err
	}
	c.printJSON(out)
	return nil
}

func (c *client) closeAccount(args []string) error {
	var reason string
	pos, err := flags("close-account", args, func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "") })
	if err != nil {
		return err
	}
	acct, err := one("close-account", pos)
	if err != nil {
		return err
	}
	var out struct {
		DevicesRevoked int               `json:"devices_revoked"`
		SessionsEnded  int               `json:"sessions_ended"`
		Orders         map[string]string `json:"orders"`
	}
	if err := c.do("POST", "/api/v1/ops/accounts/"+esc(acct)+"/close", map[string]string{"reason": reason}, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "account %s closed: %d devices deactivated, %d sessions ended", acct, out.DevicesRevoked, out.SessionsEnded)
	for id, ev := range out.Orders {
		fmt.Fprintf(c.out, "; order %s %s", id, ev)
	}
	fmt.Fprintln(c.out)
	return nil
}

func (c *client) shippingAddress(args []string) error {
	var address string
	pos, err := flags("shipping-address", args, func(fs *flag.FlagSet) { fs.StringVar(&address, "address", "", "") })
	if err != nil {
		return err
	}
	name, err := one("shipping-address", pos)
	if err != nil {
		return err
	}
	if address == "-" {
		b, err := io.ReadAll(io.LimitReader(c.in, 4096))
		if err != nil {
			return err
		}
		address = string(b)
	} else {
		address = strings.ReplaceAll(address, `\n`, "\n")
	}
	if err := c.do("PUT", "/api/v1/ops/users/"+esc(name)+"/shipping-address", map[string]string{"shipping_address": address}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "shipping address of %s saved\n", name)
	return nil
}

func (c *client) rates(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: rates list | rates set CUR=RATE… [--force --reason TEXT] | rates delete CUR")
	}
	switch args[0] {
	case "list":
	case "set":
		var force bool
		var reason string
		pos, err := flags("rates set", args[1:], func(fs *flag.FlagSet) {
			fs.BoolVar(&force, "force", false, "")
			fs.StringVar(&reason, "reason", "", "")
		})
		if err != nil {
			return err
		}
		if reason != "" && !force {
			return errors.New("rates set: --reason goes with --force (a rate outside the sane band)")
		}
		m := map[string]string{}
		for _, a := range pos {
			cur, rate, ok := strings.Cut(a, "=")
			if !ok {
				return fmt.Errorf("rates set: %q is not CUR=RATE", a)
			}
			m[cur] = rate
		}
		if len(m) == 0 {
			return errors.New("usage: rates set EUR=1.0834 [JPY=0.0067 …] [--force --reason \"…\"]")
		}
		body := map[string]any{"rates": m}
		if force {
			body["force"], body["reason"] = true, reason
		}
		if err := c.do("PUT", "/api/v1/ops/rates", body, nil); err != nil {
			return err
		}
	case "delete":
		cur, err := one("rates delete", args[1:])
		if err != nil {
			return err
		}
		if err := c.do("DELETE", "/api/v1/ops/rates/"+esc(cur), nil, nil); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown rates command %q", args[0])
	}
	var out struct {
		Rates []struct {
			Currency  string `json:"currency"`
			Rate      string `json:"rate"`
			UpdatedAt string `json:"updated_at"`
			UpdatedBy string `json:"updated_by"`
		} `json:"rates"`
	}
	if err := c.do("GET", "/api/v1/ops/rates", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%-4s %-22s %-32s %s\n", "CUR", "USD PER UNIT", "UPDATED", "BY")
	for _, r := range out.Rates {
		fmt.Fprintf(c.out, "%-4s %-22s %-32s %s\n", r.Currency, r.Rate, r.UpdatedAt, r.UpdatedBy)
	}
	return nil
}

func (c *client) holidays(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: holidays list | holidays add YYYY-MM-DD [--name N] | holidays delete YYYY-MM-DD")
	}
	switch args[0] {
	case "list":
	case "add":
		var name string
		pos, err := flags("holidays add", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&name, "name", "", "") })
		if err != nil {
			return err
		}
		date, err := one("holidays add", pos)
		if err != nil {
			return err
		}
		if err := c.do("POST", "/api/v1/ops/holidays", map[string]string{"date": date, "name": name}, nil); err != nil {
			return err
		}
	case "delete":
		date, err := one("holidays delete", args[1:])
		if err != nil {
			return err
		}
		if err := c.do("DELETE", "/api/v1/ops/holidays/"+esc(date), nil, nil); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown holidays command %q", args[0])
	}
	var out struct {
		Holidays []struct {
			Date string `json:"date"`
			Name string `json:"name"`
		} `json:"holidays"`
	}
	if err := c.do("GET", "/api/v1/ops/holidays", nil, &out); err != nil {
		return err
	}
	for _, h := range out.Holidays {
		fmt.Fprintf(c.out, "%s %s\n", h.Date, h.Name)
	}
	return nil
}

func (c *client) protection(args []string) error {
	name, err := one("protection", args)
	if err != nil {
		return err
	}
	var out map[string]any
	if err := c.do("GET", "/api/v1/ops/users/"+esc(name)+"/protection", nil, &out); err != nil {
		return err
	}
	c.printJSON(out)
	return nil
}

func (c *client) ipRestrictions(args []string) error {
	var none bool
	pos, err := flags("ip-restrictions", args, func(fs *flag.FlagSet) { fs.BoolVar(&none, "none", false, "") })
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return errors.New("usage: ip-restrictions NAME [ADDR|CIDR…] [--none]")
	}
	name, entries := pos[0], pos[1:]
	var out struct {
		IPRestrictions []string `json:"ip_restrictions"`
	}
	path := "/api/v1/ops/users/" + esc(name) + "/ip-restrictions"
	switch {
	case none && len(entries) > 0:
		return errors.New("ip-restrictions: give addresses or --none, not both")
	case none || len(entries) > 0:
		if entries == nil {
			entries = []string{}
		}
		err = c.do("PUT", path, map[string]any{"ip_restrictions": entries}, &out)
	default:
		err = c.do("GET", path, nil, &out)
	}
	if err != nil {
		return err
	}
	if len(out.IPRestrictions) == 0 {
		fmt.Fprintf(c.out, "%s: no IP restrictions (trading platforms from any address)\n", name)
		return nil
	}
	fmt.Fprintf(c.out, "%s: trading platforms only from %s\n", name, strings.Join(out.IPRestrictions, ", "))
	return nil
}

func (c *client) sharing(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: sharing check NAME NAME… --kind KIND | sharing add DEVICE_ID NAME…")
	}
	switch args[0] {
	case "check":
		var kind string
		pos, err := flags("sharing check", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&kind, "kind", "dscplus", "") })
		if err != nil {
			return err
		}
		var out map[string]any
		if err := c.do("POST", "/api/v1/ops/sharing/check", map[string]any{"usernames": pos, "device_kind": kind}, &out); err != nil {
			return err
		}
		c.printJSON(out)
		return nil
	case "add":
		if len(args) < 3 {
			return errors.New("usage: sharing add DEVICE_ID NAME…")
		}
		var out map[string]any
		if err := c.do("POST", "/api/v1/ops/sharing", map[string]any{"device_id": args[1], "usernames": args[2:]}, &out); err != nil {
			return err
		}
		c.printJSON(out)
		return nil
	}
	return fmt.Errorf("unknown sharing command %q", args[0])
}

func (c *client) withdrawals(args []string) error {
	if len(args) > 0 && args[0] == "reverse" {
		var reason string
		pos, err := flags("withdrawals reverse", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "") })
		if err != nil {
			return err
		}
		id, err := one("withdrawals reverse", pos)
		if err != nil {
			return err
		}
		var out map[string]any
		if err := c.do("POST", "/api/v1/ops/movements/"+esc(id)+"/reverse", map[string]string{"reason": reason}, &out); err != nil {
			return err
		}
		c.printJSON(out)
		return nil
	}
	var kind, since string
	pos, err := flags("withdrawals", args, func(fs *flag.FlagSet) {
		fs.StringVar(&kind, "kind", "withdrawal", "")
		fs.StringVar(&since, "since", "", "")
	})
	if err != nil {
		return err
	}
	acct, err := one("withdrawals", pos)
	if err != nil {
		return err
	}
	q := url.Values{"kind": {kind}}
	if since != "" {
		q.Set("since", since)
	}
	var out struct {
		Movements []struct {
			ID          string `json:"id"`
			RequestID   string `json:"request_id"`
			Currency    string `json:"currency"`
			AmountMinor int64  `json:"amount_minor"`
			USD         int64  `json:"usd_cents"`
			DeviceKind  string `json:"device_kind"`
			At          string `json:"at"`
			ReversedAt  string `json:"reversed_at"`
		} `json:"movements"`
	}
	if err := c.do("GET", "/api/v1/ops/accounts/"+esc(acct)+"/movements?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%-26s %-20s %-4s %16s %16s %-13s %-30s %s\n", "ID", "REQUEST", "CUR", "AMOUNT (MINOR)", "USD CENTS", "DEVICE", "AT", "REVERSED")
	for _, m := range out.Movements {
		fmt.Fprintf(c.out, "%-26s %-20s %-4s %16d %16d %-13s %-30s %s\n", m.ID, m.RequestID, m.Currency, m.AmountMinor, m.USD, m.DeviceKind, m.At, m.ReversedAt)
	}
	return nil
}
