package client

import (
	"context"

	"github.com/secure-login-system/sls/passhash"
)

// ServerInfo is GET /api/v1/ops/server: which build runs on the node
// that answered, on which engine, and what one password check costs there
// (the Argon2id parameters and how many run at once).
type ServerInfo struct {
	Version string `json:"version"`
	Engine  string `json:"engine"`
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	CPUs    int    `json:"cpus"`
	// Argon2 are the password hash's parameters.
	Argon2    passhash.Params `json:"argon2"`
	HashSlots int             `json:"hash_concurrency"`
}

// ServerInfo asks the node for it (roles admin, security-team or
// auditor).
func (c *Client) ServerInfo(ctx context.Context) (*ServerInfo, error) {
	var out ServerInfo
	if err := c.Do(ctx, "GET", "/api/v1/ops/server", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
