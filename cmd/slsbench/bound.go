package main

import (
	"context"
	"crypto/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/passhash/argon2id"
)

// hashFunc is one Argon2id implementation, as argon2.IDKey is called.
type hashFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// The two implementations a bound is measured with: the one SLS servers
// hash with (memory reused between computations), and x/crypto's, which
// allocates its memory on every call: the bound an SLS node would have
// without its own.
var (
	serverHash  hashFunc = argon2id.Key
	xcryptoHash hashFunc = argon2.IDKey
)

// measureBound runs bare Argon2id with p through hash, concurrency at a
// time, for d, and returns hashes per second: what this machine can do at
// most for password logins with the server's parameters (every login
// hashes once). 0 when d is 0.
func measureBound(ctx context.Context, hash hashFunc, p passhash.Params, concurrency int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	// One unmeasured hash per worker first: the runtime grows its heap
	// to what the hash needs before the clock starts.
	var warm sync.WaitGroup
	for range concurrency {
		warm.Add(1)
		go func() {
			defer warm.Done()
			hash([]byte("warm-up"), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
		}()
	}
	warm.Wait()
	var n atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				hash([]byte("a password of ordinary length"), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// cpuMeter reads the CPU time (user + system) of local server
// processes from /proc.
type cpuMeter struct {
	pids  []int
	start time.Duration
	ok    bool
}

// serverCPU starts measuring the CPU of the nodes that take the load
// when every one of them runs on this machine (same host name, its
// process readable); otherwise perFlow answers 0. nodes may name one
// process twice (two URLs of one node): it is counted once.
func serverCPU(nodes []client.ServerInfo) *cpuMeter {
	host, _ := os.Hostname()
	m := &cpuMeter{}
	for _, info := range nodes {
		if info.PID <= 0 || info.Host != host {
			return m
		}
		if !slices.Contains(m.pids, info.PID) {
			m.pids = append(m.pids, info.PID)
		}
	}
	m.start, m.ok = m.read()
	m.ok = m.ok && len(m.pids) > 0
	return m
}

func (m *cpuMeter) read() (time.Duration, bool) {
	var sum time.Duration
	for _, pid := range m.pids {
		t, ok := procCPU(pid)
		if !ok {
			return 0, false
		}
		sum += t
	}
	return sum, true
}

// perFlow is the servers' CPU milliseconds per flow since start.
func (m *cpuMeter) perFlow(flows int) float64 {
	if !m.ok || flows == 0 {
		return 0
	}
	now, ok := m.read()
	if !ok {
		return 0
	}
	return float64((now - m.start).Microseconds()) / 1000 / float64(flows)
}

// procCPU reads utime + stime of pid (fields 14 and 15 of
// /proc/PID/stat, in clock ticks of 1/100 s on Linux).
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	// The command name (field 2) is in parentheses and may hold spaces.
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}
