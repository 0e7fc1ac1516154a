package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/scheduler"
)

// CheckpointFile is the latest checkpoint kept outside the database.
const CheckpointFile = "audit-checkpoint.json"

type evidenceFeature struct {
	cfg      config.Audit
	keyFile  string
	keysFile string
	outside  string
	mu       sync.Mutex // one signer per node at a time
}

func (s *Server) configureAudit(context.Context) error {
	f := &s.evidence
	var err error
	if f.cfg, err = s.Config.AuditConfig(); err != nil {
		return err
	}
	f.keyFile = firstOf(s.Opts.AuditKeyFile, f.cfg.SigningKeyFile, filepath.Join(s.Opts.DataDir, "audit-signing.key"))
	f.keysFile = firstOf(f.cfg.KeysFile, filepath.Join(s.Opts.DataDir, "audit-keys.pub"))
	f.outside = filepath.Join(s.Opts.DataDir, CheckpointFile)
	if _, err := f.signingKey(); err != nil {
		return err
	}
	for _, st := range f.cfg.Streams {
		send, err := s.auditSender(st)
		if err != nil {
			return err
		}
		s.Scheduler.Add(scheduler.Job{Name: "audit-stream-" + st.Name, Every: 2 * time.Second,
			Run: func(ctx context.Context, _ time.Time) error { return s.streamAudit(ctx, st, send) }})
	}
	every := min(5*time.Second, f.cfg.CheckpointEvery.D())
	s.Scheduler.Add(scheduler.Job{Name: "audit-checkpoint", Every: every,
		Run: func(ctx context.Context, _ time.Time) error { _, err := s.Checkpoint(ctx, false); return err }})
	s.API.Extra = append(s.API.Extra, s.auditRoutes)
	return nil
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// signingKey loads the signing key, making it (and listing its public key
// as trusted) on first start. It is read on every use, so a key rotated
// on a shared volume is picked up by every node.
func (f *evidenceFeature) signingKey() (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(f.keyFile)
	if errors.Is(err, os.ErrNotExist) {
		return f.newKey()
	}
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit signing key %s: want %d hex-encoded bytes", f.keyFile, ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if err := f.trust(priv.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	return priv, nil
}

// newKey makes a signing key, lists its public key as trusted, and
// replaces the key file atomically.
func (f *evidenceFeature) newKey() (ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := f.trust(pub); err != nil {
		return nil, err
	}
	if err := writeAtomic(f.keyFile, []byte(hex.EncodeToString(priv.Seed())+"\n")); err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	return priv, nil
}

// trust adds pub to the trusted keys file unless it is there.
func (f *evidenceFeature) trust(pub ed25519.PublicKey) error {
	keys, err := f.trusted()
	if err != nil {
		return err
	}
	if _, ok := keys[audit.KeyID(pub)]; ok {
		return nil
	}
	old, _ := os.ReadFile(f.keysFile)
	if len(old) == 0 {
		old = []byte("# Public keys of the audit trail's checkpoints (every key ever used). Keep a copy outside this host.\n")
	}
	return writeAtomic(f.keysFile, append(old, audit.FormatKey(pub)...))
}

// trusted reads the trusted public keys (from the file, never the
// database).
func (f *evidenceFeature) trusted() (audit.Keys, error) {
	fh, err := os.Open(f.keysFile)
	if errors.Is(err, os.ErrNotExist) {
		return audit.Keys{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return audit.ParseKeys(fh)
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, werr := fh.Write(data)
	if err := errors.Join(werr, fh.Sync(), fh.Close()); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// Checkpoint signs the chain's head when entries were added since the
// last checkpoint and the rules say it is time (always, with force: at
// shutdown), stores it, and keeps it outside the database too. It returns
// the checkpoint, or nil when none was due.
func (s *Server) Checkpoint(ctx context.Context, force bool) (*audit.Checkpoint, error) {
	f := &s.evidence
	f.mu.Lock()
	defer f.mu.Unlock()
	var seq int64
	var hash string
	var last audit.Checkpoint
	if _, err := s.Store.ChainAudit(ctx, true); err != nil {
		return nil, err
	}
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		if seq, hash, err = tx.AuditHead(ctx); err != nil {
			return err
		}
		last, err = tx.LastAuditCheckpoint(ctx)
		if errors.Is(err, sls.ErrNotFound) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	due := seq-last.Seq >= f.cfg.CheckpointEveryEntries || now.Sub(last.At) >= f.cfg.CheckpointEvery.D() || force
	if seq == 0 || seq <= last.Seq || !due {
		return nil, nil
	}
	priv, err := f.signingKey()
	if err != nil {
		return nil, err
	}
	c := audit.SignCheckpoint(priv, seq, hash, now)
	err = s.Store.Update(ctx, func(tx sls.Tx) error { return tx.AddAuditCheckpoint(ctx, c) })
	if err != nil && !errors.Is(err, sls.ErrConflict) { // another node signed that head
		return nil, err
	}
	return &c, f.keepOutside(c)
}

// keepOutside writes c to the checkpoint file unless it holds a later one.
func (f *evidenceFeature) keepOutside(c audit.Checkpoint) error {
	if old, err := f.outsideCheckpoint(); err == nil && old != nil && old.Seq >= c.Seq {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return writeAtomic(f.outside, append(b, '\n'))
}

func (f *evidenceFeature) outsideCheckpoint() (*audit.Checkpoint, error) {
	b, err := os.ReadFile(f.outside)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := audit.ParseCheckpoint(bytes.TrimSpace(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.outside, err)
	}
	return &c, nil
}

// RotateAuditKey makes a new signing key; checkpoints from now on use it,
// and the old public key stays trusted for the checkpoints it signed.
func (s *Server) RotateAuditKey(ctx context.Context, actor string) (string, error) {
	f := &s.evidence
	f.mu.Lock()
	priv, err := f.newKey()
	f.mu.Unlock()
	if err != nil {
		return "", err
	}
	kid := audit.KeyID(priv.Public().(ed25519.PublicKey))
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		return sls.Audit(ctx, tx, s.Clock.Now(), actor, "audit.key_rotated", "", "", map[string]any{"key_id": kid})
	})
	if err != nil {
		return "", err
	}
	_, err = s.Checkpoint(ctx, true) // the new key signs the head at once
	return kid, err
}

func (s *Server) auditRoutes(a *httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/ops/audit/checkpoints", sls.ForRoles(sls.RoleAuditor, sls.RoleSecurityTeam), s.opCheckpoints),
		httpapi.Declare("POST /api/v1/ops/audit/checkpoints", sls.ForRoles(sls.RoleAuditor, sls.RoleSecurityTeam, sls.RoleAdmin), s.opSignCheckpoint),
		httpapi.Declare("POST /api/v1/ops/audit/rotate-key", sls.ForRoles(sls.RoleAdmin), s.opRotateAuditKey),
	}
}

// opCheckpoints hands the verifier what it checks the trail against: the
// checkpoints in the database, the latest one kept outside it, and the
// trusted public keys (read from their file, never from the database).
func (s *Server) opCheckpoints(w http.ResponseWriter, r *http.Request) {
	after, limit, err := httpapi.Page(r)
	if err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	var list []audit.Checkpoint
	err = s.Store.View(r.Context(), func(tx sls.Tx) error {
		var err error
		list, err = tx.AuditCheckpoints(r.Context(), after, limit)
		return err
	})
	if err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	outside, err := s.evidence.outsideCheckpoint()
	if err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	keys, err := s.evidence.trusted()
	if err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	pub := map[string]string{}
	for id, k := range keys {
		pub[id] = hex.EncodeToString(k)
	}
	if list == nil {
		list = []audit.Checkpoint{}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"checkpoints": list, "outside": outside, "keys": pub})
}

func (s *Server) opSignCheckpoint(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.NoBody(w, r); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	c, err := s.Checkpoint(r.Context(), true)
	s.API.Reply(w, r, http.StatusOK, map[string]any{"checkpoint": c}, err)
}

func (s *Server) opRotateAuditKey(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.NoBody(w, r); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	kid, err := s.RotateAuditKey(r.Context(), httpapi.OperatorActor(r))
	s.API.Reply(w, r, http.StatusOK, map[string]string{"key_id": kid}, err)
}
