package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

const diagnosticsUsage = `Diagnostics bundles (docs/diagnostics.md):
  diagnostics list [--state open|closed|all]      bundles uploaded by trading platforms, newest first (default: open)
  diagnostics show REF                            a bundle's metadata and the ticket that cites it
  diagnostics download REF [--out FILE]           the bundle as one zip (default FILE: REF.zip; "-" for standard output);
                                                  the logs archive inside is as uploaded: extract it with care
  diagnostics close REF                           the bundle is dealt with (audited)
`

func init() {
	extraCommands["diagnostics"] = (*client).diagnostics
	summaries["diagnostics"] = "diagnostics bundles: list, show, download, close"
}

type diagnostic struct {
	Ref               string    `json:"ref"`
	Username          string    `json:"username"`
	UserID            string    `json:"user_id"`
	Reason            string    `json:"reason"`
	ArchiveKind       string    `json:"archive_kind"`
	ArchiveBytes      int64     `json:"archive_bytes"`
	ArchiveEntries    int       `json:"archive_entries"`
	UncompressedBytes int64     `json:"uncompressed_bytes"`
	Screenshots       []string  `json:"screenshots"`
	CreatedAt         time.Time `json:"created_at"`
	TicketID          string    `json:"ticket_id"`
	ClosedAt          time.Time `json:"closed_at"`
	ClosedBy          string    `json:"closed_by"`
}

func (c *client) diagnostics(args []string) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprint(c.out, diagnosticsUsage)
		if len(args) == 0 {
			return errors.New("usage: diagnostics list|show|download|close")
		}
		return nil
	}
	switch args[0] {
	case "list":
		var state string
		pos, err := flags("diagnostics list", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&state, "state", "open", "open, closed or all") })
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return errors.New("usage: diagnostics list [--state open|closed|all]")
		}
		var out struct {
			Diagnostics []diagnostic `json:"diagnostics"`
		}
		if err := c.do("GET", "/api/v1/ops/diagnostics?state="+url.QueryEscape(state), nil, &out); err != nil {
			return err
		}
		if len(out.Diagnostics) == 0 {
			fmt.Fprintf(c.out, "No %s bundles.\n", state)
			return nil
		}
		for _, d := range out.Diagnostics {
			fmt.Fprintf(c.out, "%s  %s  %-20s %-7s %8s  %s  %s\n", d.Ref, d.CreatedAt.Format(time.RFC3339), d.Username, d.state(),
				humanize.IBytes(uint64(d.ArchiveBytes)), ticketText(d.TicketID), oneLine(d.Reason, 50))
		}
		return nil
	case "show", "close":
		ref, err := one("diagnostics "+args[0], args[1:])
		if err != nil {
			return err
		}
		var d diagnostic
		if args[0] == "show" {
			err = c.do("GET", "/api/v1/ops/diagnostics/"+url.PathEscape(ref), nil, &d)
		} else {
			err = c.do("POST", "/api/v1/ops/diagnostics/"+url.PathEscape(ref)+"/close", nil, &d)
		}
		if err != nil {
			return err
		}
		c.showDiagnostic(&d)
		return nil
	case "download":
		var out string
		pos, err := flags("diagnostics download", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&out, "out", "", "file to write") })
		if err != nil {
			return err
		}
		ref, err := one("diagnostics download", pos)
		if err != nil {
			return err
		}
		if out == "" {
			out = strings.ToUpper(ref) + ".zip"
		}
		body, err := c.api.Stream(context.Background(), "/api/v1/ops/diagnostics/"+url.PathEscape(ref)+"/bundle", "application/zip")
		if err != nil {
			return err
		}
		defer body.Close()
		var w io.Writer = c.out
		var f *os.File
		if out != "-" {
			// O_EXCL: never write over a file the operator already has.
			if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
				return err
			}
			w = f
		}
		n, err := io.Copy(w, body)
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(out)
				return err
			}
			fmt.Fprintf(c.out, "Wrote %s (%s).\n", out, humanize.IBytes(uint64(n)))
		}
		return err
	}
	fmt.Fprint(c.out, diagnosticsUsage)
	return fmt.Errorf("usage: diagnostics list|show|download|close, not %q", args[0])
}

func (d *diagnostic) state() string {
	if d.ClosedAt.IsZero() {
		return "open"
	}
	return "closed"
}

func ticketText(id string) string {
	if id == "" {
		return "no ticket"
	}
	return "ticket " + id
}

// oneLine shows a client's text on one line, bounded: it came from
// anyone.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

func (c *client) showDiagnostic(d *diagnostic) {
	fmt.Fprintf(c.out, "Reference:   %s (%s)\n", d.Ref, d.state())
	fmt.Fprintf(c.out, "Uploaded:    %s under username %q", d.CreatedAt.Format(time.RFC3339), d.Username)
	if d.UserID != "" {
		fmt.Fprintf(c.out, " from a session of %s", d.UserID)
	} else {
		fmt.Fprint(c.out, " from the login screen")
	}
	fmt.Fprintln(c.out)
	fmt.Fprintf(c.out, "Reason:      %s\n", oneLine(d.Reason, 500))
	fmt.Fprintf(c.out, "Archive:     %s, %s, %d entries, %s uncompressed\n", d.ArchiveKind, humanize.IBytes(uint64(d.ArchiveBytes)),
		d.ArchiveEntries, humanize.IBytes(uint64(d.UncompressedBytes)))
	fmt.Fprintf(c.out, "Screenshots: %d %s\n", len(d.Screenshots), strings.Join(d.Screenshots, " "))
	fmt.Fprintf(c.out, "Ticket:      %s\n", ticketText(d.TicketID))
	if !d.ClosedAt.IsZero() {
		fmt.Fprintf(c.out, "Closed:      %s by %s\n", d.ClosedAt.Format(time.RFC3339), d.ClosedBy)
	}
}
