package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/notify/webhook"
)

// StreamItem is one line of an audit stream or export: an entry or a
// checkpoint.
type StreamItem struct {
	Type       string            `json:"type"` // "entry" or "checkpoint"
	Entry      *audit.Entry      `json:"entry,omitempty"`
	Checkpoint *audit.Checkpoint `json:"checkpoint,omitempty"`
}

// auditBatch is how many items one stream run sends at most.
const auditBatch = 500

// auditSender returns the function that delivers a batch to st; an
// error leaves the cursor where it was, so the batch is sent again.
func (s *Server) auditSender(st config.AuditStream) (func(ctx context.Context, items []StreamItem) error, error) {
	switch st.Type {
	case "webhook":
		secret, err := readSecret(st.SecretFile, "audit stream "+st.Name+" secret")
		if err != nil {
			return nil, err
		}
		client := &http.Client{Timeout: 10 * time.Second}
		return func(ctx context.Context, items []StreamItem) error {
			body, err := json.Marshal(map[string]any{"stream": st.Name, "items": items})
			if err != nil {
				return err
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.URL, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now(), body))
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("audit stream %s: the webhook answered %d", st.Name, resp.StatusCode)
			}
			return nil
		}, nil
	case "syslog":
		host, _ := os.Hostname()
		return func(ctx context.Context, items []StreamItem) error {
			d := net.Dialer{Timeout: 5 * time.Second}
			conn, err := d.DialContext(ctx, "tcp", st.Addr)
			if err != nil {
				return err
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			var buf bytes.Buffer
			for _, it := range items {
				msg, err := syslogMessage(host, it)
				if err != nil {
					return err
				}
				// RFC 6587 §3.4.1 octet counting: "LEN SP MSG".
				buf.WriteString(strconv.Itoa(len(msg)) + " ")
				buf.Write(msg)
			}
			_, err = conn.Write(buf.Bytes())
			return err
		}, nil
	}
	return nil, fmt.Errorf("config: audit: stream %s: type must be webhook or syslog", st.Name)
}

// syslogMessage formats one item as RFC 5424: facility security/auth
// (4), severity notice (5) for entries and info (6) for checkpoints,
// structured data naming the sequence, and the item as JSON.
func syslogMessage(host string, it StreamItem) ([]byte, error) {
	body, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	pri, at, sd := 4*8+6, time.Now(), ""
	switch {
	case it.Entry != nil:
		pri, at = 4*8+5, it.Entry.At
		sd = fmt.Sprintf(`[sls@32473 type="entry" seq="%d" event="%s" actor="%s"]`, it.Entry.Seq, sdEscape(it.Entry.Event), sdEscape(it.Entry.Actor))
	case it.Checkpoint != nil:
		at = it.Checkpoint.At
		sd = fmt.Sprintf(`[sls@32473 type="checkpoint" seq="%d" key_id="%s"]`, it.Checkpoint.Seq, sdEscape(it.Checkpoint.KeyID))
	}
	if host == "" {
		host = "-"
	}
	return fmt.Appendf(nil, "<%d>1 %s %s slsd - audit %s %s", pri, at.UTC().Format("2006-01-02T15:04:05.000000Z"), host, sd, body), nil
}

// sdEscape escapes a structured-data parameter value (RFC 5424 §6.3.3).
func sdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(s)
}

// streamAudit sends what stream st has not delivered yet, oldest first,
// and moves its cursor only once the destination took it: delivery is at
// least once, across restarts and nodes (the job runs on one node at a
// time).
func (s *Server) streamAudit(ctx context.Context, st config.AuditStream, send func(context.Context, []StreamItem) error) error {
	var entries []audit.Entry
	var cps []audit.Checkpoint
	var eAfter, cAfter int64
	if _, err := s.Store.ChainAudit(ctx, true); err != nil {
		return err
	}
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		if eAfter, cAfter, err = tx.AuditStreamCursor(ctx, st.Name); err != nil {
			return err
		}
		if st.Entries {
			if entries, err = tx.AuditEntries(ctx, eAfter, auditBatch); err != nil {
				return err
			}
		}
		cps, err = tx.AuditCheckpoints(ctx, cAfter, auditBatch)
		return err
	})
	if err != nil || len(entries)+len(cps) == 0 {
		return err
	}
	items := make([]StreamItem, 0, len(entries)+len(cps))
	for i := range entries {
		items = append(items, StreamItem{Type: "entry", Entry: &entries[i]})
		eAfter = entries[i].Seq
	}
	for i := range cps {
		items = append(items, StreamItem{Type: "checkpoint", Checkpoint: &cps[i]})
		cAfter = cps[i].Seq
	}
	if err := send(ctx, items); err != nil {
		return fmt.Errorf("audit stream %s: %w", st.Name, err)
	}
	return s.Store.Update(ctx, func(tx sls.Tx) error { return tx.PutAuditStreamCursor(ctx, st.Name, eAfter, cAfter) })
}
