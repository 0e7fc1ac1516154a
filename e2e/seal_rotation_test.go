package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// loginLoad logs user in (password and DSC+) over and over on the nodes,
// in turn, until stop is closed, counting logins and failures.
func loginLoad(t *testing.T, nodes []*node, user, card, pin string, stop chan struct{}) (ok, failed *atomic.Int64, wait func()) {
	ok, failed = &atomic.Int64{}, &atomic.Int64{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr string
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := nodes[(i+w)%len(nodes)]
				r := callNoFatal("POST", n.url+"/api/v1/login", map[string]any{"username": user, "password": pw, "platform": "portal"})
				if devs, _ := r.Body["devices"].([]any); len(devs) > 0 {
					for _, d := range devs {
						if m, _ := d.(map[string]any); m["kind"] == "dscplus" {
							r = callNoFatal("POST", n.url+"/api/v1/login/device", map[string]any{"login_id": r.str("login_id"), "device_id": m["id"]})
						}
					}
				}
				ch := r.str("prompt", "challenge")
				var done apiResult
				if ch != "" {
					done = callNoFatal("POST", n.url+"/api/v1/login/answer", map[string]any{"login_id": r.str("login_id"), "response": dscRespond(t, card, pin, ch)})
				}
				if done.Status == 201 {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				mu.Lock()
				if firstErr == "" {
					firstErr = string(r.Raw) + " / " + string(done.Raw)
				}
				mu.Unlock()
			}
		}()
	}
	return ok, failed, func() {
		wg.Wait()
		if firstErr != "" {
			t.Errorf("first failed login: %s", firstErr)
		}
	}
}

// sealKeyIDs counts, per key id, the sealed values in the database.
func sealKeyIDs(t *testing.T, n *node) map[byte]int {
	t.Helper()
	db := newTamperer(t, n).db // reading only
	out := map[byte]int{}
	for _, c := range sls.SealedColumns {
		rows, err := db.Query(fmt.Sprintf(`SELECT %s FROM %s WHERE %s IS NOT NULL`, c.Column, c.Table, c.Column))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			if len(b) > 1 {
				out[b[1]]++
			}
		}
		rows.Close()
	}
	return out
}

// TestSealRotationUnderLoad: the sealing key is rotated while clients
// log in without pause (password and DSC+, whose key is sealed), on one
// node and, on PostgreSQL, on two; no login fails, every secret ends
// under the new key, and the old key is retired.
func TestSealRotationUnderLoad(t *testing.T) {
	run := func(t *testing.T, nodes []*node) {
		a := nodes[0]
		setupUser(t, a, "rosa", "RS1")
		card := filepath.Join(t.TempDir(), "card.json")
		a.mustCtl("", "dscplus", "issue", "rosa", "--pin", "2468", "--out", card)
		a.codeCard("rosa")
		before := sealKeyIDs(t, a)
		if before[1] < 3 || len(before) != 1 {
			t.Fatalf("sealed values before rotation: %v", before)
		}
		stop := make(chan struct{})
		ok, failed, wait := loginLoad(t, nodes, "rosa", card, "2468", stop)
		time.Sleep(time.Second)
		if out := a.mustCtl("", "seal", "rotate"); !strings.Contains(out, "key 2 now seals") {
			t.Fatalf("rotate: %s", out)
		}
		deadline := time.Now().Add(60 * time.Second)
		var status string
		for time.Now().Before(deadline) {
			status = a.mustCtl("", "seal", "status")
			if strings.Contains(status, "key 1 retired") {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		time.Sleep(time.Second) // logins go on after the retirement too
		close(stop)
		wait()
		if !strings.Contains(status, "key 1 retired") {
			t.Fatalf("key 1 not retired:\n%s", status)
		}
		if failed.Load() != 0 || ok.Load() < 10 {
			t.Fatalf("%d logins, %d failed", ok.Load(), failed.Load())
		}
		after := sealKeyIDs(t, a)
		if after[1] != 0 || after[2] < before[1] {
			t.Fatalf("sealed values after rotation: %v (before %v)", after, before)
		}
		t.Logf("%d logins during the rotation, none failed; values by key: before %v, after %v", ok.Load(), before, after)
	}
	cfg := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "seal.json")
		os.WriteFile(p, []byte(`{"seal": {"reload_every": "500ms", "reseal_every": "500ms", "retire_after": "2s", "reseal_batch": 2}}`), 0o600)
		return p
	}
	forEachEngine(t, func(t *testing.T, db string) {
		run(t, []*node{startNode(t, db, withArgs("--config", cfg(t), "--scheduler-tick", "200ms"))})
	})
	t.Run("two nodes", func(t *testing.T) {
		dsn, dir, c := storetest.PostgresDSN(t), t.TempDir(), cfg(t)
		a := startNode(t, dsn, withDataDir(dir), withArgs("--config", c, "--scheduler-tick", "200ms"))
		b := startNode(t, dsn, withDataDir(dir), withArgs("--config", c, "--scheduler-tick", "200ms"))
		run(t, []*node{a, b})
	})
}
