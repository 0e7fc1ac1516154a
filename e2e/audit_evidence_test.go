package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"crypto/ed25519"
	"encoding/base64"
	"time"

	"github.com/secure-login-system/sls/audit"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// tamperer is an insider with write access to the database (not to the
// data directory): the hostile DBA of the audit evidence issue.
type tamperer struct {
	t  *testing.T
	db *sql.DB
	pg bool
}

func newTamperer(t *testing.T, n *node) *tamperer {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(n.dataDir, "sls.db")
	if n.db != "" {
		driver, dsn = "pgx", n.db
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &tamperer{t: t, db: db, pg: n.db != ""}
}

func (tp *tamperer) q(query string) string {
	if !tp.pg {
		return query
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string { n++; return fmt.Sprintf("$%d", n) })
}

func (tp *tamperer) exec(query string, args ...any) {
	tp.t.Helper()
	if _, err := tp.db.Exec(tp.q(query), args...); err != nil {
		tp.t.Fatalf("%s: %v", query, err)
	}
}

// dropGuards removes the append-only triggers, as the database's owner can.
func (tp *tamperer) dropGuards() {
	if tp.pg {
		tp.exec(`DROP TRIGGER audit_log_no_change ON audit_log`)
		return
	}
	tp.exec(`DROP TRIGGER audit_log_no_update`)
	tp.exec(`DROP TRIGGER audit_log_no_delete`)
}

func (tp *tamperer) entries() []audit.Entry {
	tp.t.Helper()
	rows, err := tp.db.Query(`SELECT seq, at, actor, event, user_id, device_id, detail, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		tp.t.Fatal(err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Event, &e.UserID, &e.DeviceID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			tp.t.Fatal(err)
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	return out
}

// rewrite changes entry seq's detail and recomputes every later hash, so
// that the chain verifies on its own.
func (tp *tamperer) rewrite(seq int64, detail string) {
	es := tp.entries()
	var prev *audit.Entry
	for i := range es {
		e := &es[i]
		if e.Seq >= seq {
			if e.Seq == seq {
				e.Detail = detail
			}
			audit.Seal(e, prev)
			tp.exec(`UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Detail, e.PrevHash, e.Hash, e.Seq)
		}
		prev = e
	}
	last := es[len(es)-1]
	tp.exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, last.Seq, last.Hash)
}

// TestAuditTamperingIsFound: each way a hostile DBA may change the trail —
// an edited row, a deleted tail written after the last periodic
// checkpoint, a fully recomputed chain, a forged checkpoint — is found by
// slsctl audit verify, which names where, on both engines.
func TestAuditTamperingIsFound(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(tp *tamperer, head int64)
		want   *regexp.Regexp
	}{
		{"edited row", func(tp *tamperer, head int64) {
			tp.dropGuards()
			tp.exec(`UPDATE audit_log SET detail = ? WHERE seq = 4`, `{"account_id":"NOTHING-TO-SEE"}`)
		}, regexp.MustCompile(`entry 4: entry content does not match its hash`)},
		{"deleted tail", func(tp *tamperer, head int64) {
			tp.dropGuards()
			keep := head - 3
			var hash string
			if err := tp.db.QueryRow(tp.q(`SELECT hash FROM audit_log WHERE seq = ?`), keep).Scan(&hash); err != nil {
				tp.t.Fatal(err)
			}
			tp.exec(`DELETE FROM audit_log WHERE seq > ?`, keep)
			tp.exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, keep, hash)
			// The checkpoints in the database that covered the tail go too:
			// only the one kept outside it is left to tell.
			tp.exec(`DELETE FROM audit_checkpoints WHERE seq > ?`, keep)
		}, regexp.MustCompile(`entries \d+ to \d+ were deleted|rewritten at or before this entry`)},
		{"recomputed chain", func(tp *tamperer, head int64) {
			tp.dropGuards()
			tp.rewrite(4, `{"account_id":"REWRITTEN"}`)
		}, regexp.MustCompile(`entry \d+: the trail was rewritten at or before this entry`)},
		{"forged checkpoint", func(tp *tamperer, head int64) {
			tp.dropGuards()
			tp.rewrite(4, `{"account_id":"REWRITTEN"}`)
			// ...and covers it with checkpoints of the DBA's own key.
			_, priv, _ := ed25519.GenerateKey(nil)
			es := tp.entries()
			last := es[len(es)-1]
			tp.exec(`DELETE FROM audit_checkpoints`)
			c := audit.SignCheckpoint(priv, last.Seq, last.Hash, time.Now())
			tp.exec(`INSERT INTO audit_checkpoints (seq, hash, at, key_id, sig) VALUES (?, ?, ?, ?, ?)`,
				c.Seq, c.Hash, c.At.UnixMicro(), c.KeyID, base64.StdEncoding.EncodeToString(c.Sig))
		}, regexp.MustCompile(`not trusted|rewritten at or before this entry`)},
	}
	forEachEngine(t, func(t *testing.T, db string) {
		for _, c := range cases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				if db != "" {
					db = storetest.PostgresDSN(t)
				}
				cfg := filepath.Join(t.TempDir(), "audit.json")
				// Periodic checkpoints far apart: the tail after the last
				// one is covered only by the one signed at shutdown.
				os.WriteFile(cfg, []byte(`{"audit": {"checkpoint_every": "1h", "checkpoint_every_entries": 100000}}`), 0o600)
				n := startNode(t, db, withArgs("--config", cfg))
				for i := range 3 {
					n.mustCtl("", "account", "create", "--id", fmt.Sprintf("AE%d", i), "--currency", "USD", "--equity", "1.00", "--jurisdiction", "US")
				}
				if out := n.mustCtl("", "audit", "checkpoint"); !strings.Contains(out, "signed by key") {
					t.Fatalf("checkpoint: %s", out)
				}
				for i := 3; i < 8; i++ {
					n.mustCtl("", "account", "create", "--id", fmt.Sprintf("AE%d", i), "--currency", "USD", "--equity", "1.00", "--jurisdiction", "US")
				}
				if out := n.mustCtl("", "audit", "verify"); !strings.Contains(out, "audit trail OK") {
					t.Fatalf("intact trail: %s", out)
				}
				n.stop() // signs the head at shutdown, and keeps it outside the database
				tp := newTamperer(t, n)
				var head int64
				if err := tp.db.QueryRow(`SELECT seq FROM audit_head WHERE id = 1`).Scan(&head); err != nil {
					t.Fatal(err)
				}
				c.tamper(tp, head)
				n.start()
				out, err := n.ctl("", "audit", "verify")
				if err == nil || !strings.Contains(out, "TAMPERED") || !c.want.MatchString(out) {
					t.Fatalf("verify after %s: %v\n%s", c.name, err, out)
				}
				t.Logf("%s: %s", c.name, strings.TrimSpace(out))
			})
		}
	})
}

// TestAuditKeyRotation: after the signing key is rotated, checkpoints
// signed by both keys verify, pinned keys included, and the export
// carries both.
func TestAuditKeyRotation(t *testing.T) {
	n := startNode(t, "")
	n.mustCtl("", "account", "create", "--id", "KR1", "--currency", "USD", "--equity", "1.00", "--jurisdiction", "US")
	n.mustCtl("", "audit", "checkpoint")
	if out := n.mustCtl("", "audit", "rotate-key"); !strings.Contains(out, "new audit signing key") {
		t.Fatalf("rotate: %s", out)
	}
	n.mustCtl("", "account", "create", "--id", "KR2", "--currency", "USD", "--equity", "1.00", "--jurisdiction", "US")
	n.mustCtl("", "audit", "checkpoint")
	keys := n.mustCtl("", "audit", "keys")
	if strings.Count(keys, "\n") != 3 { // a comment and two keys
		t.Fatalf("keys: %s", keys)
	}
	pinned := filepath.Join(t.TempDir(), "keys.pub")
	os.WriteFile(pinned, []byte(keys), 0o600)
	if out := n.mustCtl("", "audit", "verify", "--trust", pinned); !strings.Contains(out, "audit trail OK") {
		t.Fatalf("verify with pinned keys: %s", out)
	}
	export := filepath.Join(t.TempDir(), "audit.jsonl")
	n.mustCtl("", "audit", "export", "--out", export)
	b, _ := os.ReadFile(export)
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var item struct {
			Type       string            `json:"type"`
			Checkpoint *audit.Checkpoint `json:"checkpoint"`
		}
		if err := json.Unmarshal([]byte(line), &item); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		kinds[item.Type]++
	}
	if kinds["entry"] < 5 || kinds["checkpoint"] < 3 {
		t.Fatalf("export: %v", kinds)
	}
	// A key the operator does not trust makes the trail untrusted.
	os.WriteFile(pinned, []byte(strings.Join(strings.Split(keys, "\n")[:2], "\n")+"\n"), 0o600)
	if out, err := n.ctl("", "audit", "verify", "--trust", pinned); err == nil || !strings.Contains(out, "not trusted") {
		t.Fatalf("verify with one key pinned: %v %s", err, out)
	}
}
