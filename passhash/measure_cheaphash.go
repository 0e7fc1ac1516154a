//go:build slsbench_cheaphash

// This file exists only in binaries built with -tags slsbench_cheaphash,
// for finding the database-bound ceiling of a deployment
// (scripts/bench-ceiling, docs/sizing.md): with the password hash made
// nearly free, a load test measures everything a login costs but the
// hash. Such a build must never serve real users: it accepts password
// hashes far below OWASP's Password Storage Cheat Sheet minimum
// (m=19 MiB, t=2, p=1), which an offline attacker breaks at millions of
// guesses per second.

package passhash

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
)

func init() {
	measureFloor = cheapFloor
	// Said at the start of every binary of this build, before any
	// logging is set up, and again by the logger when weak parameters
	// are accepted.
	fmt.Fprintln(os.Stderr, "WARNING: built with -tags slsbench_cheaphash: password hashes below OWASP's minimum are "+
		"accepted. FOR LOAD MEASUREMENT ONLY — never serve real users with this binary.")
}

// cheapFloor is Validate for the measurement build: RFC 9106 §3.1's
// limits only (memory at least 8 KiB per lane, at least one pass and one
// lane), and the same ceilings as the default build.
func cheapFloor(p Params) error {
	switch {
	case p.Parallelism < 1:
		return errors.New("passhash: parallelism must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Parallelism):
		return fmt.Errorf("passhash: memory %d KiB is below Argon2's minimum of 8 KiB per lane", p.MemoryKiB)
	case p.MemoryKiB > 4*1024*1024:
		return fmt.Errorf("passhash: memory %d KiB is above 4 GiB", p.MemoryKiB)
	case p.Iterations < 1 || p.Iterations > 100:
		return fmt.Errorf("passhash: iterations %d out of range 1..100", p.Iterations)
	}
	if p.MemoryKiB < 19*1024 || (p.Iterations < 2 && p.MemoryKiB < 46*1024) {
		slog.Warn("MEASUREMENT BUILD: password hash parameters below OWASP's minimum accepted; never serve real users",
			"memory_kib", p.MemoryKiB, "iterations", p.Iterations, "parallelism", p.Parallelism)
	}
	return nil
}
