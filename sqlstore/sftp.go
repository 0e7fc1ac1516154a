package sqlstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	sls "github.com/secure-login-system/sls"
)

const sftpClientCols = `username, user_id, enabled, pgp_key, pgp_fingerprint, quota_bytes, ftp_password_hash, ftp_plain, ftp_failures, ftp_held_until, created_at, updated_at`

func scanSFTPClient(s scanner) (*sls.SFTPClient, error) {
	var c sls.SFTPClient
	var created, updated int64
	if err := s.Scan(&c.Username, &c.UserID, &c.Enabled, &c.PGPKey, &c.PGPFingerprint, &c.QuotaBytes,
		&c.FTPPasswordHash, &c.FTPPlain, &c.FTPFailures, nullTime{&c.FTPHeldUntil}, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicro(created), fromMicro(updated)
	return &c, nil
}

func (t *tx) CreateSFTPClient(ctx context.Context, c *sls.SFTPClient) error {
	_, err := t.exec(ctx, `INSERT INTO sftp_clients (`+sftpClientCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Username, c.UserID, c.Enabled, c.PGPKey, c.PGPFingerprint, c.QuotaBytes, c.FTPPasswordHash, c.FTPPlain, c.FTPFailures, ts(c.FTPHeldUntil),
		c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro())
	return wrap("create sftp client", err)
}

func (t *tx) SFTPClient(ctx context.Context, username string) (*sls.SFTPClient, error) {
	c, err := scanSFTPClient(t.queryRow(ctx, `SELECT `+sftpClientCols+` FROM sftp_clients WHERE username = ?`, username))
	return c, wrap("sftp client", err)
}

func (t *tx) SFTPClientForUpdate(ctx context.Context, username string) (*sls.SFTPClient, error) {
	c, err := scanSFTPClient(t.queryRow(ctx, `SELECT `+sftpClientCols+` FROM sftp_clients WHERE username = ?`+t.forUpdate(), username))
	return c, wrap("sftp client", err)
}

func (t *tx) PutSFTPClient(ctx context.Context, c *sls.SFTPClient) error {
	res, err := t.exec(ctx, `UPDATE sftp_clients SET enabled = ?, pgp_key = ?, pgp_fingerprint = ?, quota_bytes = ?,
		ftp_password_hash = ?, ftp_plain = ?, ftp_failures = ?, ftp_held_until = ?, updated_at = ? WHERE username = ?`,
		c.Enabled, c.PGPKey, c.PGPFingerprint, c.QuotaBytes, c.FTPPasswordHash, c.FTPPlain, c.FTPFailures, ts(c.FTPHeldUntil),
		c.UpdatedAt.UnixMicro(), c.Username)
	return mustAffect("put sftp client", res, err)
}

func (t *tx) SFTPClients(ctx context.Context) ([]*sls.SFTPClient, error) {
	rows, err := t.query(ctx, `SELECT `+sftpClientCols+` FROM sftp_clients ORDER BY username`)
	if err != nil {
		return nil, wrap("sftp clients", err)
	}
	return collect(rows, scanSFTPClient)
}

func (t *tx) SFTPClientsByUser(ctx context.Context, userID string) ([]*sls.SFTPClient, error) {
	rows, err := t.query(ctx, `SELECT `+sftpClientCols+` FROM sftp_clients WHERE user_id = ? ORDER BY username`, userID)
	if err != nil {
		return nil, wrap("sftp clients by user", err)
	}
	return collect(rows, scanSFTPClient)
}

const sftpKeyCols = `id, username, authorized_key, fingerprint, key_type, bits, format, comment, added_at, revoked_at`

func scanSFTPKey(s scanner) (*sls.SFTPKey, error) {
	var k sls.SFTPKey
	var added int64
	if err := s.Scan(&k.ID, &k.Username, &k.AuthorizedKey, &k.Fingerprint, &k.Type, &k.Bits, &k.Format, &k.Comment,
		&added, nullTime{&k.RevokedAt}); err != nil {
		return nil, err
	}
	k.AddedAt = fromMicro(added)
	return &k, nil
}

func (t *tx) AddSFTPKey(ctx context.Context, k *sls.SFTPKey) error {
	// DO NOTHING rather than a failing INSERT: on PostgreSQL a failed
	// statement would abort the caller's transaction.
	res, err := t.exec(ctx, `INSERT INTO sftp_keys (`+sftpKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.ID, k.Username, k.AuthorizedKey, k.Fingerprint, k.Type, k.Bits, k.Format, k.Comment, k.AddedAt.UnixMicro(), ts(k.RevokedAt))
	if err != nil {
		return wrap("add sftp key", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("add sftp key", err)
	}
	if n == 0 {
		return sls.ErrConflict.Wrap(fmt.Errorf("sqlstore: add sftp key: %s already registered for %s", k.Fingerprint, k.Username))
	}
	return nil
}

func (t *tx) SFTPKeys(ctx context.Context, username string, withRevoked bool) ([]*sls.SFTPKey, error) {
	q := `SELECT ` + sftpKeyCols + ` FROM sftp_keys WHERE username = ?`
	if !withRevoked {
		q += ` AND revoked_at IS NULL`
	}
	rows, err := t.query(ctx, q+` ORDER BY added_at, id`, username)
	if err != nil {
		return nil, wrap("sftp keys", err)
	}
	return collect(rows, scanSFTPKey)
}

func (t *tx) RevokeSFTPKey(ctx context.Context, username, id string, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE sftp_keys SET revoked_at = ? WHERE username = ? AND id = ? AND revoked_at IS NULL`,
		at.UnixMicro(), username, id)
	return mustAffect("revoke sftp key", res, err)
}

// addrRange returns the stored form of a prefix: its family and its first
// and last address as fixed-width hex, which sorts as the numbers do.
func addrRange(p netip.Prefix) (family int, lo, hi string) {
	a := p.Masked().Addr()
	b := a.AsSlice()
	last := slices.Clone(b)
	for i := p.Bits(); i < len(b)*8; i++ {
		last[i/8] |= 0x80 >> (i % 8)
	}
	family = 6
	if a.Is4() {
		family = 4
	}
	return family, hex.EncodeToString(b), hex.EncodeToString(last)
}

func addrKey(a netip.Addr) (family int, key string) {
	a = a.Unmap()
	family = 6
	if a.Is4() {
		family = 4
	}
	return family, hex.EncodeToString(a.AsSlice())
}

func (t *tx) SetSFTPNetworks(ctx context.Context, username string, nets []netip.Prefix) error {
	for _, p := range nets {
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			return fmt.Errorf("sqlstore: set sftp networks: %s is not a masked, unmapped prefix", p)
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM sftp_networks WHERE username = ?`, username); err != nil {
		return wrap("set sftp networks", err)
	}
	seen := map[netip.Prefix]bool{}
	for _, p := range nets {
		if seen[p] {
			continue
		}
		seen[p] = true
		fam, lo, hi := addrRange(p)
		if _, err := t.exec(ctx, `INSERT INTO sftp_networks (username, prefix, family, lo, hi) VALUES (?, ?, ?, ?, ?)`,
			username, p.String(), fam, lo, hi); err != nil {
			return wrap("set sftp networks", err)
		}
	}
	return nil
}

func (t *tx) SFTPNetworks(ctx context.Context, username string) ([]netip.Prefix, error) {
	rows, err := t.query(ctx, `SELECT prefix FROM sftp_networks WHERE username = ? ORDER BY family, lo, hi`, username)
	if err != nil {
		return nil, wrap("sftp networks", err)
	}
	return collect(rows, func(s scanner) (netip.Prefix, error) {
		var v string
		if err := s.Scan(&v); err != nil {
			return netip.Prefix{}, err
		}
		return netip.ParsePrefix(v)
	})
}

func (t *tx) SFTPAddrAllowed(ctx context.Context, addr netip.Addr) (bool, error) {
	if !addr.IsValid() {
		return false, nil
	}
	fam, key := addrKey(addr)
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM sftp_networks n JOIN sftp_clients c ON c.username = n.username
		WHERE c.enabled AND n.family = ? AND n.lo <= ? AND n.hi >= ? LIMIT 1`, fam, key, key).Scan(&one)
	switch err = wrap("sftp addr allowed", err); {
	case errors.Is(err, sls.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
