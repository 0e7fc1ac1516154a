package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/secure-login-system/sls/audit"
)

const auditUsage = `usage: audit verify [--trust KEYSFILE] | audit list [--after SEQ] [--limit N] | audit export [--since SEQ|RFC3339] [--out FILE]
       audit keys | audit checkpoint | audit rotate-key`

// evidence is what the server hands the verifier besides the entries.
type evidence struct {
	Checkpoints []audit.Checkpoint `json:"checkpoints"`
	Outside     *audit.Checkpoint  `json:"outside"`
	Keys        map[string]string  `json:"keys"`
}

// audit verifies the chain on the operator's side: the server only hands
// out the entries, the checkpoints and the public keys; the tool
// recomputes every hash and checks every signature. Exit status 3 means
// the trail was tampered with (what and where is printed).
func (c *client) audit(args []string) (int, error) {
	if len(args) == 0 {
		return 2, errors.New(auditUsage)
	}
	switch args[0] {
	case "verify":
		var trust string
		if _, err := flags("audit verify", args[1:], func(fs *flag.FlagSet) { fs.StringVar(&trust, "trust", "", "") }); err != nil {
			return 2, err
		}
		return c.auditVerify(trust)
	case "list":
		var after int64
		var limit int
		if _, err := flags("audit list", args[1:], func(fs *flag.FlagSet) {
			fs.Int64Var(&after, "after", 0, "")
			fs.IntVar(&limit, "limit", 100, "")
		}); err != nil {
			return 2, err
		}
		var page struct {
			Entries []audit.Entry `json:"entries"`
		}
		if err := c.do("GET", fmt.Sprintf("/api/v1/ops/audit?after=%d&limit=%d", after, limit), nil, &page); err != nil {
			return 1, err
		}
		for _, e := range page.Entries {
			fmt.Fprintf(c.out, "%6d %s %-22s %-24s user=%s device=%s %s\n", e.Seq, e.At.Format("2006-01-02T15:04:05Z"), e.Event, e.Actor, e.UserID, e.DeviceID, e.Detail)
		}
		return 0, nil
	case "export":
		var since, out string
		if _, err := flags("audit export", args[1:], func(fs *flag.FlagSet) {
			fs.StringVar(&since, "since", "0", "")
			fs.StringVar(&out, "out", "", "")
		}); err != nil {
			return 2, err
		}
		return c.auditExport(since, out)
	case "keys":
		ev, err := c.evidence()
		if err != nil {
			return 1, err
		}
		fmt.Fprintln(c.out, "# Trusted public keys of the audit checkpoints: keep this file apart from the server and pass it to audit verify --trust.")
		for id, k := range ev.Keys {
			fmt.Fprintf(c.out, "%s %s\n", id, k)
		}
		return 0, nil
	case "checkpoint":
		var out struct {
			Checkpoint *audit.Checkpoint `json:"checkpoint"`
		}
		if err := c.do("POST", "/api/v1/ops/audit/checkpoints", nil, &out); err != nil {
			return 1, err
		}
		if out.Checkpoint == nil {
			fmt.Fprintln(c.out, "nothing new to sign")
			return 0, nil
		}
		fmt.Fprintf(c.out, "checkpoint at entry %d signed by key %s\n", out.Checkpoint.Seq, out.Checkpoint.KeyID)
		return 0, nil
	case "rotate-key":
		var out struct {
			KeyID string `json:"key_id"`
		}
		if err := c.do("POST", "/api/v1/ops/audit/rotate-key", nil, &out); err != nil {
			return 1, err
		}
		fmt.Fprintf(c.out, "new audit signing key %s; earlier keys stay trusted for their checkpoints (audit keys)\n", out.KeyID)
		return 0, nil
	}
	return 2, fmt.Errorf("unknown audit command %q", args[0])
}

// evidence fetches every checkpoint, the one kept outside the database
// and the server's trusted keys.
func (c *client) evidence() (*evidence, error) {
	var all evidence
	for after := int64(0); ; {
		var page evidence
		if err := c.do("GET", fmt.Sprintf("/api/v1/ops/audit/checkpoints?after=%d&limit=10000", after), nil, &page); err != nil {
			return nil, err
		}
		all.Outside, all.Keys = page.Outside, page.Keys
		all.Checkpoints = append(all.Checkpoints, page.Checkpoints...)
		if len(page.Checkpoints) < 10000 {
			return &all, nil
		}
		after = page.Checkpoints[len(page.Checkpoints)-1].Seq
	}
}

func (c *client) auditVerify(trustFile string) (int, error) {
	ev, err := c.evidence()
	if err != nil {
		return 1, err
	}
	keys := audit.Keys{}
	if trustFile != "" {
		// Keys pinned by the operator, from outside the server.
		f, err := os.Open(trustFile)
		if err != nil {
			return 1, err
		}
		keys, err = audit.ParseKeys(f)
		f.Close()
		if err != nil {
			return 1, err
		}
	} else {
		for id, k := range ev.Keys {
			pub, err := hex.DecodeString(k)
			if err != nil || audit.KeyID(pub) != id {
				return 1, fmt.Errorf("the server listed a malformed key %q", id)
			}
			keys[id] = pub
		}
	}
	check, err := audit.NewEvidence(keys, ev.Checkpoints, ev.Outside)
	if err != nil {
		fmt.Fprintf(c.out, "TAMPERED: %v\n", err)
		return exitTampered, err
	}
	for after := int64(0); ; {
		var page struct {
			Entries []audit.Entry `json:"entries"`
		}
		if err := c.do("GET", fmt.Sprintf("/api/v1/ops/audit?after=%d&limit=1000", after), nil, &page); err != nil {
			return 1, err
		}
		for _, e := range page.Entries {
			if err := check.Next(e); err != nil {
				fmt.Fprintf(c.out, "TAMPERED after %d good entries: %v\n", check.Count(), err)
				return exitTampered, err
			}
		}
		if len(page.Entries) < 1000 {
			// The last page. (Each page read is itself audited, so the
			// trail grows while it is read: stop at what was there.)
			break
		}
		after = page.Entries[len(page.Entries)-1].Seq
	}
	if err := check.Finish(); err != nil {
		fmt.Fprintf(c.out, "TAMPERED: %v\n", err)
		return exitTampered, err
	}
	fmt.Fprintf(c.out, "audit trail OK: %d entries, head %s, %d signed checkpoints agree\n", check.Count(), check.Head(), check.Checkpoints())
	return 0, nil
}

// auditExport writes the trail as JSON lines — entries, then the
// checkpoints that cover them — for a SIEM or WORM storage, page by page.
func (c *client) auditExport(since, outPath string) (int, error) {
	var after int64
	var from time.Time
	if n, err := strconv.ParseInt(since, 10, 64); err == nil && n >= 0 {
		after = n
	} else if t, err := time.Parse(time.RFC3339, since); err == nil {
		from = t
	} else {
		return 2, fmt.Errorf("--since must be a sequence number or an RFC 3339 time, not %q", since)
	}
	var w io.Writer = c.out
	if outPath != "" {
		f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 1, err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	first := after
	for cursor := after; ; {
		var page struct {
			Entries []audit.Entry `json:"entries"`
		}
		if err := c.do("GET", fmt.Sprintf("/api/v1/ops/audit?after=%d&limit=1000", cursor), nil, &page); err != nil {
			return 1, err
		}
		for i := range page.Entries {
			e := &page.Entries[i]
			if e.At.Before(from) {
				first = e.Seq
				continue
			}
			if err := enc.Encode(map[string]any{"type": "entry", "entry": e}); err != nil {
				return 1, err
			}
		}
		if len(page.Entries) < 1000 {
			break
		}
		cursor = page.Entries[len(page.Entries)-1].Seq
	}
	ev, err := c.evidence()
	if err != nil {
		return 1, err
	}
	for i := range ev.Checkpoints {
		if ev.Checkpoints[i].Seq > first {
			if err := enc.Encode(map[string]any{"type": "checkpoint", "checkpoint": &ev.Checkpoints[i]}); err != nil {
				return 1, err
			}
		}
	}
	return 0, bw.Flush()
}
