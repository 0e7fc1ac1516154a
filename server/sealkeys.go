package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/scheduler"
	"github.com/secure-login-system/sls/seal"
)

type sealFeature struct {
	cfg      config.Seal
	root     []byte // the sealing key file's key: data key 1 and the KEK's source
	provider seal.KeyProvider
}

// configureSeal loads the key ring (data keys from the database, wrapped
// by the key-encryption key) and registers rotation: the re-sealing job,
// the periodic reload and the operator routes.
func (s *Server) configureSeal(ctx context.Context) error {
	f := &s.seal
	var err error
	if f.cfg, err = s.Config.SealConfig(); err != nil {
		return err
	}
	c := &f.cfg
	if f.provider, err = seal.NewFileKEK(f.root); err != nil {
		return err
	}
	if err := s.loadSealKeys(ctx); err != nil {
		return err
	}
	s.Sealer.SetReload(func() error { return s.loadSealKeys(context.Background()) })
	s.OnStart(func(ctx context.Context) {
		t := time.NewTicker(c.ReloadEvery.D())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.loadSealKeys(ctx); err != nil && ctx.Err() == nil {
					s.Log.Error("seal: reloading the key ring", "err", err)
				}
			}
		}
	})
	s.Scheduler.Add(scheduler.Job{Name: "reseal", Every: c.ResealEvery.D(), Run: s.reseal})
	s.API.Extra = append(s.API.Extra, s.sealRoutes)
	return nil
}

// loadSealKeys builds the key ring from the database: key 1 (the sealing
// key) unless retired, every other key not retired (unwrapped by the
// provider); the newest active key seals.
func (s *Server) loadSealKeys(ctx context.Context) error {
	var rows []sls.SealKey
	if err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		rows, err = tx.SealKeys(ctx)
		return err
	}); err != nil {
		return err
	}
	keys, current := map[byte][]byte{1: s.seal.root}, byte(1)
	for _, r := range rows {
		switch {
		case r.ID == 1:
			if r.State == sls.SealKeyRetired {
				delete(keys, 1)
			}
			continue
		case r.State == sls.SealKeyRetired:
			continue
		}
		k, err := s.seal.provider.Unwrap(r.Wrapped, r.ID)
		if err != nil {
			return fmt.Errorf("seal: data key %d does not unwrap (is this the deployment's sealing key?): %w", r.ID, err)
		}
		keys[r.ID] = k
		if r.State == sls.SealKeyActive && r.ID > current {
			current = r.ID
		}
	}
	return s.Sealer.SetKeys(current, keys)
}

// RotateSealKey makes a new data key current; the keys before it start
// retiring, and the re-sealing job moves every value onto the new key.
func (s *Server) RotateSealKey(ctx context.Context, actor string) (byte, error) {
	dk, err := seal.NewDataKey()
	if err != nil {
		return 0, err
	}
	var id byte
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		rows, err := tx.SealKeys(ctx)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		top, has1 := 1, false
		for _, r := range rows {
			top = max(top, int(r.ID))
			has1 = has1 || r.ID == 1
			if r.State == sls.SealKeyActive {
				r.State, r.RetiringAt = sls.SealKeyRetiring, now
				if err := tx.PutSealKey(ctx, r); err != nil {
					return err
				}
			}
		}
		if !has1 { // the sealing key itself, implicitly active until now
			if err := tx.PutSealKey(ctx, sls.SealKey{ID: 1, State: sls.SealKeyRetiring, CreatedAt: now, RetiringAt: now}); err != nil {
				return err
			}
		}
		if top >= 255 {
			return sls.Errorf(sls.CodeConflict, "No key id is left (255 rotations); rotate the sealing key file instead.")
		}
		id = byte(top + 1)
		wrapped, err := s.seal.provider.Wrap(dk, id)
		if err != nil {
			return err
		}
		if err := tx.PutSealKey(ctx, sls.SealKey{ID: id, Wrapped: wrapped, State: sls.SealKeyActive, CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.DeleteResealCursors(ctx); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, "seal.key_rotated", "", "", map[string]any{"key_id": id})
	})
	if err != nil {
		return 0, err
	}
	return id, s.loadSealKeys(ctx)
}

// reseal is the re-sealing job: while a key is retiring, it walks every
// sealed column in batches (resuming from cursors in the database, on
// whichever node runs it) and re-seals values not under the current key,
// each with a compare-and-swap so that a concurrent update wins. A full
// pass that moved nothing retires the retiring keys once they have been
// retiring for retire_after.
func (s *Server) reseal(ctx context.Context, now time.Time) error {
	var keys []sls.SealKey
	var cursors []sls.ResealCursor
	if err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		if keys, err = tx.SealKeys(ctx); err != nil {
			return err
		}
		cursors, err = tx.ResealCursors(ctx)
		return err
	}); err != nil {
		return err
	}
	retiring := false
	for _, k := range keys {
		retiring = retiring || k.State == sls.SealKeyRetiring
	}
	if !retiring {
		return nil
	}
	if err := s.loadSealKeys(ctx); err != nil { // seal with the newest key
		return err
	}
	current := s.Sealer.Current()
	byName := map[string]sls.ResealCursor{}
	for _, c := range cursors {
		byName[c.Column] = c
	}
	deadline := time.Now().Add(5 * time.Second)
	done, moved := true, int64(0)
	for _, col := range sls.SealedColumns {
		cur := byName[col.Name()]
		cur.Column = col.Name()
		for !cur.Done && time.Now().Before(deadline) {
			if err := s.resealBatch(ctx, col, &cur, current); err != nil {
				return err
			}
		}
		done = done && cur.Done
		moved += cur.Resealed
	}
	if !done {
		return nil
	}
	if moved > 0 {
		// A pass moved values: the next one must find nothing before a
		// key is retired (a node that had not reloaded yet may have
		// sealed with it meanwhile).
		return s.Store.Update(ctx, func(tx sls.Tx) error { return tx.DeleteResealCursors(ctx) })
	}
	retired := false
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		for _, k := range keys {
			if k.State != sls.SealKeyRetiring || now.Sub(k.RetiringAt) < s.seal.cfg.RetireAfter.D() {
				continue
			}
			// Erased, not kept: nothing uses it, and a key that is gone
			// cannot leak (a backup restores its own key table).
			k.State, k.Wrapped, k.RetiredAt = sls.SealKeyRetired, nil, now
			if err := tx.PutSealKey(ctx, k); err != nil {
				return err
			}
			retired = true
			if err := sls.Audit(ctx, tx, now, sls.ActorSystem, "seal.key_retired", "", "", map[string]any{"key_id": k.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !retired {
		return err
	}
	return s.loadSealKeys(ctx)
}

// resealBatch re-seals one batch of col after cur and moves cur on.
func (s *Server) resealBatch(ctx context.Context, col sls.SealedColumn, cur *sls.ResealCursor, current byte) error {
	batch := s.seal.cfg.ResealBatch
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		vals, err := tx.SealedValues(ctx, col, cur.After, batch)
		if err != nil {
			return err
		}
		for _, v := range vals {
			cur.After = v.ID
			if id, ok := seal.KeyID(v.Sealed); !ok || id == current {
				continue
			}
			place := seal.Place{Table: col.Table, Column: col.Column, Row: v.ID}
			out, changed, err := s.Sealer.Reseal(place, v.Sealed)
			if err != nil {
				// Not one of ours (or damaged): it cannot be moved, and
				// retiring a key cannot make it worse. Said, not hidden.
				s.Log.Error("seal: a value does not open and cannot be re-sealed", "column", col.Name(), "row", v.ID)
				continue
			}
			if !changed {
				continue
			}
			ok, err := tx.SwapSealed(ctx, col, v.ID, v.Sealed, out)
			if err != nil {
				return err
			}
			if ok {
				cur.Resealed++
			}
		}
		cur.Done = len(vals) < batch
		return tx.PutResealCursor(ctx, *cur)
	})
}

func (s *Server) sealRoutes(a *httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/ops/seal", sls.ForRoles(sls.RoleAdmin, sls.RoleSecurityTeam, sls.RoleAuditor), s.opSealStatus),
		httpapi.Declare("POST /api/v1/ops/seal/rotate", sls.ForRoles(sls.RoleAdmin), s.opSealRotate),
	}
}

func (s *Server) opSealStatus(w http.ResponseWriter, r *http.Request) {
	var keys []sls.SealKey
	var cursors []sls.ResealCursor
	err := s.Store.View(r.Context(), func(tx sls.Tx) error {
		var err error
		if keys, err = tx.SealKeys(r.Context()); err != nil {
			return err
		}
		cursors, err = tx.ResealCursors(r.Context())
		return err
	})
	if len(keys) == 0 {
		keys = []sls.SealKey{{ID: 1, State: sls.SealKeyActive}}
	}
	if cursors == nil {
		cursors = []sls.ResealCursor{}
	}
	s.API.Reply(w, r, http.StatusOK, map[string]any{"current": s.Sealer.Current(), "keys": keys, "reseal": cursors}, err)
}

func (s *Server) opSealRotate(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.NoBody(w, r); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	id, err := s.RotateSealKey(r.Context(), httpapi.OperatorActor(r))
	s.API.Reply(w, r, http.StatusOK, map[string]any{"key_id": id}, err)
}
