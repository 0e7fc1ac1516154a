package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/notify/webhook"
	"github.com/secure-login-system/sls/server"
)

// syslogSink is a TCP syslog receiver (RFC 6587 octet counting).
type syslogSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *syslogSink) serve(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			for {
				lenStr, err := r.ReadString(' ')
				if err != nil {
					break
				}
				n, err := strconv.Atoi(strings.TrimSpace(lenStr))
				if err != nil || n <= 0 || n > 1<<20 {
					break
				}
				b := make([]byte, n)
				if _, err := io.ReadFull(r, b); err != nil {
					break
				}
				s.mu.Lock()
				s.msgs = append(s.msgs, string(b))
				s.mu.Unlock()
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestAuditStreams: checkpoints and entries reach a webhook (signed) and
// a syslog receiver (RFC 5424), at least once: a destination that is down
// gets everything once it is back, and nothing is skipped.
func TestAuditStreams(t *testing.T) {
	secret := "a webhook secret long enough to be a key"
	secretFile := filepath.Join(t.TempDir(), "hook.secret")
	os.WriteFile(secretFile, []byte(secret), 0o600)
	var mu sync.Mutex
	var got []server.StreamItem
	down := true
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		if err := webhook.VerifySignature([]byte(secret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		var b struct {
			Items []server.StreamItem `json:"items"`
		}
		json.Unmarshal(body, &b)
		got = append(got, b.Items...)
	}))
	defer hook.Close()
	var sys syslogSink
	sysAddr := sys.serve(t)
	srv, _ := openServerWith(t, fmt.Sprintf(`"operators": %s, "audit": {"streams": [
		{"name": "siem", "type": "webhook", "url": %q, "secret_file": %q, "entries": true},
		{"name": "worm", "type": "syslog", "addr": %q}]}`, testOperators, hook.URL, secretFile, sysAddr), nil)
	ctx := context.Background()
	run := func(name string) error {
		for _, j := range srv.Scheduler.Jobs() {
			if j.Name == name {
				return j.Run(ctx, srv.Clock.Now())
			}
		}
		t.Fatalf("no job %s", name)
		return nil
	}
	for i := range 3 {
		if err := srv.Store.Update(ctx, func(tx sls.Tx) error {
			return sls.Audit(ctx, tx, srv.Clock.Now(), sls.ActorSystem, "test.event", "", "", map[string]any{"i": i})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := srv.Checkpoint(ctx, true); err != nil || c == nil {
		t.Fatalf("checkpoint: %v %v", c, err)
	}
	if err := run("audit-stream-siem"); err == nil {
		t.Fatal("a failed delivery was not reported")
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if err := run("audit-stream-siem"); err != nil {
		t.Fatal(err)
	}
	if err := run("audit-stream-siem"); err != nil { // nothing new: nothing sent twice
		t.Fatal(err)
	}
	if err := run("audit-stream-worm"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	entries, cps := 0, 0
	for _, it := range got {
		switch {
		case it.Entry != nil:
			entries++
			if it.Entry.Seq != int64(entries) {
				t.Errorf("entry %d arrived as number %d", it.Entry.Seq, entries)
			}
		case it.Checkpoint != nil:
			cps++
		}
	}
	mu.Unlock()
	if entries < 3 || cps != 1 {
		t.Fatalf("webhook got %d entries and %d checkpoints", entries, cps)
	}
	for range 100 {
		sys.mu.Lock()
		n := len(sys.msgs)
		sys.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sys.mu.Lock()
	defer sys.mu.Unlock()
	if len(sys.msgs) != 1 || !strings.HasPrefix(sys.msgs[0], "<38>1 ") || !strings.Contains(sys.msgs[0], `[sls@32473 type="checkpoint" seq="`) {
		t.Fatalf("syslog got %q", sys.msgs)
	}
}
