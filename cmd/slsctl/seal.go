package main

import (
	"errors"
	"fmt"
	"time"
)

func init() { extraCommands["seal"] = (*client).sealCmd }

type sealStatus struct {
	Current int `json:"current"`
	Keys    []struct {
		ID         int       `json:"id"`
		State      string    `json:"state"`
		CreatedAt  time.Time `json:"created_at"`
		RetiringAt time.Time `json:"retiring_at"`
		RetiredAt  time.Time `json:"retired_at"`
	} `json:"keys"`
	Reseal []struct {
		Column   string `json:"column"`
		Done     bool   `json:"done"`
		Resealed int64  `json:"resealed"`
	} `json:"reseal"`
}

// sealCmd shows and rotates the sealing keys.
func (c *client) sealCmd(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: seal status | seal rotate")
	}
	switch args[0] {
	case "rotate":
		var out struct {
			KeyID int `json:"key_id"`
		}
		if err := c.do("POST", "/api/v1/ops/seal/rotate", nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "key %d now seals; earlier keys are retiring while every secret is re-sealed in the background (seal status)\n", out.KeyID)
		return nil
	case "status":
		var st sealStatus
		if err := c.do("GET", "/api/v1/ops/seal", nil, &st); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "current key %d\n", st.Current)
		for _, k := range st.Keys {
			line := fmt.Sprintf("key %d %s", k.ID, k.State)
			if !k.RetiringAt.IsZero() {
				line += " since " + k.RetiringAt.Format(time.RFC3339)
			}
			if !k.RetiredAt.IsZero() {
				line += ", retired " + k.RetiredAt.Format(time.RFC3339)
			}
			fmt.Fprintln(c.out, line)
		}
		for _, r := range st.Reseal {
			state := "in progress"
			if r.Done {
				state = "done"
			}
			fmt.Fprintf(c.out, "  %-40s %s, %d re-sealed this pass\n", r.Column, state, r.Resealed)
		}
		return nil
	}
	return errors.New("usage: seal status | seal rotate")
}
