package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"
)

func init() {
	extraCommands["sessions"] = (*client).sessions
	extraCommands["lock"] = (*client).lock
}

// session is what the operator API shows of a session (never its token).
type session struct {
	ID         string    `json:"id"`
	Platform   string    `json:"platform"`
	DeviceID   string    `json:"device_id"`
	DeviceKind string    `json:"device_kind"`
	Scope      string    `json:"scope"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	EndedAt    time.Time `json:"ended_at"`
	ClientIP   string    `json:"client_ip"`
}

// sessions lists a user's sessions as a table, or ends one or all:
//
//	slsctl sessions USER
//	slsctl sessions end USER [SESSION]
func (c *client) sessions(args []string) error {
	if len(args) > 0 && args[0] == "end" {
		if len(args) < 2 || len(args) > 3 {
			return errors.New("usage: sessions end USER [SESSION]")
		}
		path := "/api/v1/ops/users/" + url.PathEscape(args[1]) + "/sessions"
		if len(args) == 3 {
			path += "/" + url.PathEscape(args[2])
		}
		var out struct {
			Ended []string `json:"ended"`
		}
		if err := c.do("DELETE", path, nil, &out); err != nil {
			return err
		}
		if len(out.Ended) == 0 {
			fmt.Fprintf(c.out, "no live session of %s to end\n", args[1])
			return nil
		}
		fmt.Fprintf(c.out, "ended %d session(s) of %s: %s\n", len(out.Ended), args[1], strings.Join(out.Ended, " "))
		return nil
	}
	name, err := one("sessions", args)
	if err != nil {
		return errors.New("usage: sessions USER | sessions end USER [SESSION]")
	}
	var out struct {
		Sessions []session `json:"sessions"`
	}
	if err := c.do("GET", "/api/v1/ops/users/"+url.PathEscape(name)+"/sessions", nil, &out); err != nil {
		return err
	}
	c.sessionTable(out.Sessions)
	return nil
}

// sessionTable prints sessions one a line; times are UTC to the minute,
// "-" when not set.
func (c *client) sessionTable(list []session) {
	const row = "%-30s %-8s %-13s %-17s %-17s %-17s %-17s %s\n"
	fmt.Fprintf(c.out, row, "ID", "PLATFORM", "DEVICE KIND", "CREATED", "LAST SEEN", "EXPIRES", "ENDED", "CLIENT IP")
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	for _, s := range list {
		kind := s.DeviceKind
		if kind == "" {
			kind = "password"
		}
		fmt.Fprintf(c.out, row, s.ID, s.Platform, kind, at(s.CreatedAt), at(s.LastSeenAt), at(s.ExpiresAt), at(s.EndedAt), orDash(s.ClientIP))
	}
	if len(list) == 0 {
		fmt.Fprintln(c.out, "(no sessions)")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lock locks a user until unlocked and ends the user's sessions:
//
//	slsctl lock USER --reason "suspected takeover, ticket 123"
func (c *client) lock(args []string) error {
	var reason string
	pos, err := flags("lock", args, func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "") })
	if err != nil {
		return err
	}
	name, err := one("lock", pos)
	if err != nil {
		return errors.New(`usage: lock USER --reason "why"`)
	}
	if strings.TrimSpace(reason) == "" {
		return errors.New(`--reason is required: say why the user is locked`)
	}
	if err := c.do("POST", "/api/v1/ops/users/"+url.PathEscape(name)+"/lock", map[string]any{"reason": reason}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "user %s locked until unlocked; their sessions ended\n", name)
	return nil
}
