package main

import (
	"errors"
	"fmt"
)

func init() { extraCommands["backup"] = (*client).backupCmd }

// backupCmd has the server write an online backup of its SQLite
// database into its data directory (PostgreSQL: pg_dump).
func (c *client) backupCmd(args []string) error {
	if len(args) != 0 {
		return errors.New("usage: backup")
	}
	var out struct {
		File  string `json:"file"`
		Bytes int64  `json:"bytes"`
	}
	if err := c.do("POST", "/api/v1/ops/backup", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "backup written on the server: %s (%d bytes); copy it off the host with the key files (docs/operations.md)\n", out.File, out.Bytes)
	return nil
}
