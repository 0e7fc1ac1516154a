package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/statement"
)

// The documents delivered for an account are the client's to read in the
// portal and the API, a closed account included (SPEC §6): the same
// files the client's SFTP/FTP folder holds, found through the rows
// Deliver records, so that nobody reads a file by naming a path.

// parseDocumentKind reads an operator's ?type= (default statement).
func parseDocumentKind(s string) (sls.DocumentKind, error) {
	if s == "" {
		return sls.DocStatement, nil
	}
	for _, k := range sls.DocumentKinds {
		if string(k) == s {
			return k, nil
		}
	}
	kinds := make([]string, len(sls.DocumentKinds))
	for i, k := range sls.DocumentKinds {
		kinds[i] = string(k)
	}
	return "", sls.Errorf(sls.CodeInvalidArgument, "The document type (?type=) %q is unknown; use one of %s.", s, strings.Join(kinds, ", "))
}

// Documents lists the user's documents whose files are still there,
// newest first.
func (s *Service) Documents(ctx context.Context, userID string) ([]*sls.Document, error) {
	var docs []*sls.Document
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		docs, err = tx.Documents(ctx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []*sls.Document{}
	var root *os.Root
	if s.enabled {
		if root, err = os.OpenRoot(s.cfg.Root); err != nil {
			return nil, fmt.Errorf("delivery: documents: %w", err)
		}
		defer root.Close()
	}
	for _, d := range docs {
		// Gone from the folder (the client removed it over SFTP, or the
		// purge ran on another node): not listed. Lstat through the root
		// answers without opening each file; a link is not a document.
		if root != nil {
			fi, err := root.Lstat(d.Client + "/" + d.File)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
		}
		d.PurgeAfter = d.DeliveredAt.Add(s.retention)
		out = append(out, d)
	}
	return out, nil
}

// errDocumentGone: the row is there, the file is not.
var errDocumentGone = sls.Errorf(sls.CodeNotFound, "The document is no longer available: documents are kept for the retention period and then removed.")

// OpenDocument opens the user's document for reading. Another user's id
// is not found, exactly as an unknown one.
func (s *Service) OpenDocument(ctx context.Context, userID, id string) (*os.File, *sls.Document, error) {
	if !s.enabled {
		return nil, nil, errSFTPOff
	}
	var d *sls.Document
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		d, err = tx.Document(ctx, userID, id)
		return err
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, nil, sls.Errorf(sls.CodeNotFound, "There is no such document.")
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := s.openDocument(d)
	if err != nil {
		return nil, nil, errDocumentGone.Wrap(err)
	}
	return f, d, nil
}

// openDocument opens a document's file through os.Root, so that a link a
// client placed in its folder is not followed out of it, and only a
// regular file is served.
func (s *Service) openDocument(d *sls.Document) (*os.File, error) {
	if statement.ValidateUsername(d.Client) != nil || statement.ValidateName(strings.TrimSuffix(d.File, statement.EncryptedSuffix)) != nil {
		return nil, fmt.Errorf("delivery: document %s: stored name refused", d.ID)
	}
	root, err := os.OpenRoot(s.cfg.Root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	dir, err := root.OpenRoot(d.Client)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fi, err := dir.Lstat(d.File)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("delivery: document %s is not a regular file", d.ID)
	}
	return dir.Open(d.File)
}

func (s *Service) listDocuments(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	docs, err := s.Documents(r.Context(), httpapi.UserOf(r).ID)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"documents": docs, "retention_days": int(s.retention / (24 * time.Hour))})
}

func (s *Service) getDocument(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	f, d, err := s.OpenDocument(r.Context(), httpapi.UserOf(r).ID, r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	defer f.Close()
	httpapi.ServeDocument(w, r, f, d)
}
