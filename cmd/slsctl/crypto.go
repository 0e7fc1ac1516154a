package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
)

func init() { extraCommands["crypto"] = (*client).cryptoCmd }

const cryptoUsage = `usage: crypto position USER VALUE_USD      report the account's cryptocurrency holdings value (the custody fee's base)
       crypto custody [--account ID] [--month YYYY-MM]   the custody-fee ledger`

// cryptoCmd is the back office's side of cryptocurrency trading
// (docs/crypto.md): holdings values in, custody fees out.
func (c *client) cryptoCmd(args []string) error {
	if len(args) == 0 {
		return errors.New(cryptoUsage)
	}
	switch args[0] {
	case "position":
		if len(args) != 3 {
			return errors.New(cryptoUsage)
		}
		var out struct {
			AccountID string `json:"account_id"`
			Value     int64  `json:"value_usd_cents"`
		}
		if err := c.do("PUT", "/api/v1/ops/crypto/positions/"+url.PathEscape(args[1]), map[string]string{"value_usd": args[2]}, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "account %s holds USD %d.%02d of cryptocurrencies; the custody job records it daily\n", out.AccountID, out.Value/100, out.Value%100)
		return nil
	case "custody":
		var account, month string
		if _, err := flags("crypto custody", args[1:], func(fs *flag.FlagSet) {
			fs.StringVar(&account, "account", "", "")
			fs.StringVar(&month, "month", "", "")
		}); err != nil {
			return err
		}
		q := url.Values{}
		if account != "" {
			q.Set("account", account)
		}
		if month != "" {
			q.Set("month", month)
		}
		var out struct {
			Fees []struct {
				AccountID string `json:"account_id"`
				Month     string `json:"month"`
				Days      int    `json:"days"`
				Average   int64  `json:"average_usd_cents"`
				BP        int64  `json:"bp_monthly"`
				Fee       int64  `json:"fee_usd_cents"`
			} `json:"fees"`
		}
		if err := c.do("GET", "/api/v1/ops/crypto/custody?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		for _, f := range out.Fees {
			fmt.Fprintf(c.out, "%s  %-12s average USD %d.%02d over %d days  %d bps  fee USD %d.%02d\n",
				f.Month, f.AccountID, f.Average/100, f.Average%100, f.Days, f.BP, f.Fee/100, f.Fee%100)
		}
		return nil
	}
	return errors.New(cryptoUsage)
}
