package server

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/sqlstore"
)

// backupRoutes: an online backup of the embedded database, for admins.
func (s *Server) backupRoutes(*httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("POST /api/v1/ops/backup", sls.ForRoles(sls.RoleAdmin), s.opBackup),
	}
}

// opBackup writes a consistent copy of the SQLite database into
// DATA/backups (never a path the caller names), mode 0600: it holds
// sealed secrets and the audit trail.
func (s *Server) opBackup(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.NoBody(w, r); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	dir := filepath.Join(s.Opts.DataDir, "backups")
	path := filepath.Join(dir, "sls-"+s.Clock.Now().UTC().Format("20060102T150405.000000Z")+".db")
	err := os.MkdirAll(dir, 0o700)
	if err == nil {
		err = s.Store.Backup(r.Context(), path)
	}
	if errors.Is(err, sqlstore.ErrBackupEngine) {
		err = sls.Errorf(sls.CodeConflict, "This server runs on PostgreSQL: back it up with pg_dump (docs/operations.md).")
	}
	if err == nil {
		err = os.Chmod(path, 0o600)
	}
	var size int64
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(path); err == nil {
			size = fi.Size()
		}
	}
	if err == nil {
		err = s.Store.Update(r.Context(), func(tx sls.Tx) error {
			return sls.Audit(r.Context(), tx, s.Clock.Now(), httpapi.OperatorActor(r), "backup.made", "", "", map[string]any{"file": filepath.Base(path), "bytes": size})
		})
	}
	if err != nil && sls.ErrorCode(err) == "" {
		err = fmt.Errorf("server: backup: %w", err)
	}
	s.API.Reply(w, r, http.StatusCreated, map[string]any{"file": path, "bytes": size}, err)
}
