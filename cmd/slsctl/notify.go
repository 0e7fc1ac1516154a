package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
)

func init() {
	extraCommands["sink"] = (*client).sink
	extraCommands["message"] = (*client).message
	extraCommands["outbox"] = (*client).outboxList
}

// sink lists messages delivered to the local sink channel, one JSON object
// per line (fields id, channel, to, kind, lang, subject, body, delivered_at).
func (c *client) sink(args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return errors.New("usage: sink list [--to DEST] [--kind KIND] [--limit N]")
	}
	var to, kind string
	var limit int
	if _, err := flags("sink list", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "")
		fs.StringVar(&kind, "kind", "", "")
		fs.IntVar(&limit, "limit", 1000, "")
	}); err != nil {
		return err
	}
	q := url.Values{"to": {to}, "kind": {kind}, "limit": {fmt.Sprint(limit)}}
	var out struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if err := c.do("GET", "/api/v1/ops/sink?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	for _, m := range out.Messages {
		fmt.Fprintln(c.out, string(m))
	}
	return nil
}

// message sends a secure message to a user's message center; the body is
// read from standard input. Only the summary leaves by email or SMS.
func (c *client) message(args []string) error {
	if len(args) == 0 || args[0] != "send" {
		return errors.New("usage: message send USER --summary TEXT   (body on standard input)")
	}
	var summary string
	pos, err := flags("message send", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&summary, "summary", "", "") })
	if err != nil {
		return err
	}
	name, err := one("message send", pos)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.in, 64<<10))
	if err != nil {
		return err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/messages",
		map[string]any{"summary": summary, "body": strings.TrimSpace(string(body))}, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "secure message %s sent to %s\n", out.ID, name)
	return nil
}

func (c *client) outboxList(args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return errors.New("usage: outbox list [--state pending|sent|failed]")
	}
	var state string
	if _, err := flags("outbox list", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&state, "state", "pending", "") }); err != nil {
		return err
	}
	var out struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if err := c.do("GET", "/api/v1/ops/outbox?state="+url.QueryEscape(state), nil, &out); err != nil {
		return err
	}
	for _, m := range out.Messages {
		fmt.Fprintln(c.out, string(m))
	}
	return nil
}
