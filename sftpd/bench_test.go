package sftpd

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestBenchDownload compares the throughput of this server with OpenSSH's
// sftp-server, both behind SSH (OpenSSH's under a private sshd started for
// the run), serving the same files to the same OpenSSH sftp client: one
// 256 MiB statement, and 1,000 statements of 4 KiB, downloaded and then
// uploaded. It also times `sftp -D sftp-server` (no SSH at all) as a floor
// for protocol cost.
//
// Each cipher is measured as the client names it with -c, and "default"
// runs the client with no -c at all, so that each server gets the cipher a
// default OpenSSH client negotiates with it (RFC 4253 §7.1: the client's
// first choice that the server offers); the report names that cipher for
// each server. Rounds are interleaved (round, cipher, server), so that a
// busy moment on the machine hits every server alike.
//
// Opt-in, as it moves several gigabytes: SLS_BENCH=1 go test -run
// TestBenchDownload -v ./sftpd/. It reports and never fails on a time.
// SLS_BENCH_CIPHERS (comma-separated, "default" for no -c),
// SLS_BENCH_ROUNDS, SLS_BENCH_LOADS (any of get-big, get-small, put-big,
// put-small) narrow or widen the run; SLS_BENCH_OUT writes the report to a
// file and SLS_BENCH_CPUPROFILE writes a CPU profile of this process (this
// server and the test, not the OpenSSH processes).
func TestBenchDownload(t *testing.T) {
	if os.Getenv("SLS_BENCH") != "1" {
		t.Skip("set SLS_BENCH=1 to run the download benchmark")
	}
	needTools(t, "sftp", "ssh-keygen")
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), func(c *Config) {
		c.Logger = nil // the per-file audit lines would only add noise
	})
	folder := filepath.Join(ts.root, "alice")
	const bigSize = 256 << 20
	const nSmall, smallSize = 1000, 4 << 10
	makeBenchFiles(t, folder, bigSize, nSmall, smallSize)

	// A second server on the same folders offers every cipher, for the
	// runs that name one the defaults leave out (ChaCha20).
	all := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), func(c *Config) {
		c.Logger = nil
		c.Root = ts.root
		c.Ciphers = ssh.SupportedAlgorithms().Ciphers
	})
	targets := []benchTarget{{name: "sls sftpd", port: ts.port, allPort: all.port, user: "alice", dir: "/",
		cpu: selfCPU, settle: func() { waitFor(func() bool { return ts.srv.nconns.Load()+all.srv.nconns.Load() == 0 }) }}}
	if sshd, ok := startSSHD(t, good.Pub.Type()+" "+authorizedKey(t, good.OpenSSH)); ok {
		targets = append(targets, benchTarget{name: "OpenSSH sshd+sftp-server", port: sshd.port, user: sshd.user, dir: folder,
			cpu: func() time.Duration { return procTreeCPU(sshd.pid) }, settle: func() { waitFor(func() bool { return !hasChildren(sshd.pid) }) }})
	} else {
		t.Log("sshd unavailable: comparing with sftp -D only (no SSH), which is not like for like")
	}
	if _, err := os.Stat("/usr/lib/openssh/sftp-server"); err == nil {
		targets = append(targets, benchTarget{name: "sftp -D sftp-server (no SSH)", direct: true, dir: folder})
	}

	ciphers := []string{"default", "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes128-ctr"}
	if c := os.Getenv("SLS_BENCH_CIPHERS"); c != "" {
		ciphers = strings.Split(c, ",")
	}
	loads := []benchLoad{
		{"get-big", "get 1 x 256 MiB", bigSize, 1},
		{"get-small", "get 1000 x 4 KiB", nSmall * smallSize, nSmall},
		{"put-big", "put 1 x 256 MiB", bigSize, 1},
		{"put-small", "put 1000 x 4 KiB", nSmall * smallSize, nSmall},
	}
	if l := os.Getenv("SLS_BENCH_LOADS"); l != "" {
		want := strings.Split(l, ",")
		loads = slices.DeleteFunc(loads, func(ld benchLoad) bool { return !slices.Contains(want, ld.name) })
	}
	rounds := 3
	if r, err := strconv.Atoi(os.Getenv("SLS_BENCH_ROUNDS")); err == nil && r > 0 {
		rounds = r
	}

	// What a client with no -c negotiates, as its own debug log says.
	negotiated := map[string]string{}
	for _, tg := range targets {
		if !tg.direct {
			negotiated[tg.name] = tg.negotiated(t, good.OpenSSH)
		}
	}

	if p := os.Getenv("SLS_BENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		must(t, pprof.StartCPUProfile(f))
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	type key struct{ target, cipher, load string }
	times := map[key][]time.Duration{}
	cpus := map[key][]time.Duration{} // the server's CPU time (user+system)
	work := t.TempDir()
	for range rounds {
		for _, cipher := range ciphers {
			for _, tg := range targets {
				if tg.direct && cipher != ciphers[0] {
					continue // no cipher without SSH
				}
				for _, ld := range loads {
					d, cpu := tg.run(t, good.OpenSSH, cipher, folder, work, ld.name)
					checkLoad(t, folder, work, ld.name, bigSize, nSmall, smallSize)
					k := key{tg.name, cipher, ld.name}
					times[k] = append(times[k], d)
					cpus[k] = append(cpus[k], cpu)
				}
			}
		}
	}

	var report strings.Builder
	fmt.Fprintf(&report, "OpenSSH sftp client, best of %d interleaved rounds (median in brackets), MB = 10^6 bytes;\n"+
		"cpu: the server's CPU time (user+system; for OpenSSH sshd and sftp-server together), median; cpu ratio: OpenSSH's over this server's\n", rounds)
	for _, tg := range targets {
		if !tg.direct {
			fmt.Fprintf(&report, "a default client (no -c) negotiates with %s: %s\n", tg.name, negotiated[tg.name])
		}
	}
	for _, cipher := range ciphers {
		fmt.Fprintf(&report, "cipher %s:\n", cipher)
		for _, ld := range loads {
			var ref float64
			for _, tg := range targets {
				c := cipher
				if tg.direct {
					c = ciphers[0]
				}
				ds := times[key{tg.name, c, ld.name}]
				if len(ds) == 0 {
					continue
				}
				best, med := slices.Min(ds), median(ds)
				mbs := float64(ld.bytes) / best.Seconds() / 1e6
				line := fmt.Sprintf("  %-17s %-30s %8.1f MB/s (%8.1f) best %v", ld.label, tg.name, mbs, float64(ld.bytes)/med.Seconds()/1e6, best.Round(time.Millisecond))
				if ld.files > 1 {
					line += fmt.Sprintf(", %.0f files/s (%.0f)", float64(ld.files)/best.Seconds(), float64(ld.files)/med.Seconds())
				}
				if cs := cpus[key{tg.name, c, ld.name}]; !tg.direct {
					line += fmt.Sprintf(", cpu %v", median(cs).Round(time.Millisecond))
				}
				switch {
				case tg.name == "sls sftpd":
					ref = mbs
				case ref > 0:
					line += fmt.Sprintf("  -> sls/this = %.2f (median %.2f)", ref/mbs, medianRatio(times[key{"sls sftpd", cipher, ld.name}], ds))
					if !tg.direct {
						line += fmt.Sprintf(", cpu ratio %.2f", medianRatio(cpus[key{"sls sftpd", cipher, ld.name}], cpus[key{tg.name, c, ld.name}]))
					}
				}
				report.WriteString(line + "\n")
			}
		}
	}
	t.Log("\n" + report.String())
	if out := os.Getenv("SLS_BENCH_OUT"); out != "" {
		os.WriteFile(out, []byte(report.String()), 0o644)
	}
}

// benchLoad is one transfer the benchmark times.
type benchLoad struct {
	name, label string
	bytes       int
	files       int
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// medianRatio is this server's throughput over the other's, from the median
// times; 0 when either has none.
func medianRatio(sls, other []time.Duration) float64 {
	if len(sls) == 0 || len(other) == 0 {
		return 0
	}
	return median(other).Seconds() / median(sls).Seconds()
}

type benchTarget struct {
	name string
	port int
	// allPort, when set, is a server offering every cipher, for runs that
	// name a cipher; port then serves only the default (no -c) runs.
	allPort int
	user    string
	dir     string // remote folder holding big.bin and small/
	direct  bool   // sftp -D: no SSH
	// cpu returns the CPU time the server has used so far, and settle
	// waits until the last session has ended; nil for sftp -D.
	cpu    func() time.Duration
	settle func()
}

// selfCPU is this process's CPU time: this server's, as the test itself
// only waits for the client.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procTreeCPU is the CPU time of process pid and of its children that have
// ended (proc(5): utime, stime, cutime, cstime), in clock ticks of 10 ms.
func procTreeCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in brackets and may hold
	// spaces; utime is the 14th field of the line, the 12th after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func hasChildren(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	return err == nil && len(bytes.TrimSpace(b)) > 0
}

// waitFor polls cond for up to 5 s.
func waitFor(cond func() bool) {
	for deadline := time.Now().Add(5 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// sftpArgs are the client's arguments; cipher "default" leaves the choice
// to the client's defaults. logLevel other than ERROR also drops -q, which
// would silence the client's log.
func (tg benchTarget) sftpArgs(key, cipher, batch, logLevel string) []string {
	if tg.direct {
		return []string{"-q", "-b", batch, "-D", "/usr/lib/openssh/sftp-server"}
	}
	port := tg.port
	if cipher != "default" && tg.allPort != 0 {
		port = tg.allPort
	}
	args := []string{"-b", batch, "-i", key, "-P", strconv.Itoa(port)}
	if logLevel == "ERROR" {
		args = append(args, "-q")
	}
	if cipher != "default" {
		args = append(args, "-c", cipher)
	}
	return append(args,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes", "-o", "LogLevel="+logLevel, "-o", "Compression=no",
		tg.user+"@127.0.0.1")
}

// negotiated returns the cipher and MAC a client with no -c agrees on with
// the server, from the client's debug log ("kex: server->client cipher: …
// MAC: … compression: …").
func (tg benchTarget) negotiated(t *testing.T, key string) string {
	t.Helper()
	bf := filepath.Join(t.TempDir(), "batch")
	must(t, os.WriteFile(bf, []byte("pwd\n"), 0o600))
	out, err := exec.Command("sftp", tg.sftpArgs(key, "default", bf, "DEBUG1")...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", tg.name, err, out)
	}
	var got []string
	for line := range strings.Lines(string(out)) {
		for _, dir := range []string{"server->client", "client->server"} {
			if _, rest, ok := strings.Cut(line, "kex: "+dir+" cipher: "); ok {
				rest, _, _ = strings.Cut(rest, " compression:")
				got = append(got, dir+" "+strings.TrimSpace(rest))
			}
		}
	}
	if len(got) == 0 {
		return "unknown (no kex line in the client's log)"
	}
	return strings.Join(got, "; ")
}

// run times one load: get-* download from the server into work, put-*
// upload from folder (the server side's files) into the server's up/
// folder, which is emptied first.
func (tg benchTarget) run(t *testing.T, key, cipher, folder, work, load string) (wall, cpu time.Duration) {
	t.Helper()
	os.RemoveAll(filepath.Join(work, "big.bin"))
	os.RemoveAll(filepath.Join(work, "small"))
	must(t, os.RemoveAll(filepath.Join(folder, "up")))
	var batch string
	switch load {
	case "get-big":
		batch = fmt.Sprintf("cd %s\nlcd %s\nget big.bin\n", tg.dir, work)
	case "get-small":
		must(t, os.Mkdir(filepath.Join(work, "small"), 0o700))
		batch = fmt.Sprintf("cd %s\nlcd %s\nget *\n", path.Join(tg.dir, "small"), filepath.Join(work, "small"))
	case "put-big":
		must(t, os.Mkdir(filepath.Join(folder, "up"), 0o700))
		batch = fmt.Sprintf("cd %s\nlcd %s\nput big.bin\n", path.Join(tg.dir, "up"), folder)
	case "put-small":
		must(t, os.Mkdir(filepath.Join(folder, "up"), 0o700))
		batch = fmt.Sprintf("cd %s\nlcd %s\nput *\n", path.Join(tg.dir, "up"), filepath.Join(folder, "small"))
	default:
		t.Fatalf("unknown load %q", load)
	}
	bf := filepath.Join(t.TempDir(), "batch")
	must(t, os.WriteFile(bf, []byte(batch), 0o600))
	cmd := exec.Command("sftp", tg.sftpArgs(key, cipher, bf, "ERROR")...)
	var cpu0 time.Duration
	if tg.cpu != nil {
		tg.settle()
		cpu0 = tg.cpu()
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(start)
	if err != nil {
		t.Fatalf("%s %s %s: %v\n%s", tg.name, cipher, load, err, out)
	}
	if tg.cpu != nil {
		tg.settle()
		cpu = tg.cpu() - cpu0
	}
	return wall, cpu
}

// checkLoad checks that a load moved every byte.
func checkLoad(t *testing.T, folder, work, load string, bigSize, nSmall, smallSize int) {
	t.Helper()
	switch load {
	case "get-big":
		checkSize(t, filepath.Join(work, "big.bin"), int64(bigSize))
	case "get-small":
		checkCount(t, filepath.Join(work, "small"), nSmall, int64(smallSize))
	case "put-big":
		checkSize(t, filepath.Join(folder, "up", "big.bin"), int64(bigSize))
	case "put-small":
		checkCount(t, filepath.Join(folder, "up"), nSmall, int64(smallSize))
	}
}

func makeBenchFiles(t *testing.T, folder string, bigSize, nSmall, smallSize int) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(folder, "small"), 0o700))
	// Random bytes, so that no layer can compress them.
	block := make([]byte, 1<<20)
	rand.Read(block)
	f, err := os.OpenFile(filepath.Join(folder, "big.bin"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for range bigSize / len(block) {
		if _, err := f.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	must(t, f.Close())
	for i := range nSmall {
		off := (i * smallSize) % (len(block) - smallSize)
		must(t, os.WriteFile(filepath.Join(folder, "small", fmt.Sprintf("U%07d_20260301.pdf", i)), block[off:off+smallSize], 0o600))
	}
}

func checkSize(t *testing.T, p string, size int64) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil || fi.Size() != size {
		t.Fatalf("%s: %v, %v; want %d bytes", p, fi, err, size)
	}
}

func checkCount(t *testing.T, dir string, n int, size int64) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil || len(es) != n {
		t.Fatalf("%s: %d files, %v; want %d", dir, len(es), err, n)
	}
	for _, e := range es[:3] {
		checkSize(t, filepath.Join(dir, e.Name()), size)
	}
}

func authorizedKey(t *testing.T, privPath string) string {
	t.Helper()
	pub, err := os.ReadFile(privPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(pub))
	return f[1]
}

type sshdProc struct {
	port int
	user string
	pid  int
}

// startSSHD runs OpenSSH's sshd in the foreground as a child with its own
// host key, configuration and authorized_keys in a temporary folder.
func startSSHD(t *testing.T, authorizedLine string) (sshdProc, bool) {
	t.Helper()
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		return sshdProc{}, false
	}
	u, err := user.Current()
	if err != nil {
		return sshdProc{}, false
	}
	if u.Uid == "0" {
		// Privilege separation needs this folder when sshd runs as root; the
		// Debian package creates it only when its service starts.
		os.MkdirAll("/run/sshd", 0o755)
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	run(t, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey)
	must(t, os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(authorizedLine+"\n"), 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := filepath.Join(dir, "sshd_config")
	must(t, os.WriteFile(conf, []byte(strings.Join([]string{
		"Port " + strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PidFile none",
		"UsePAM no",
		"StrictModes no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"PermitRootLogin prohibit-password",
		"Subsystem sftp /usr/lib/openssh/sftp-server",
		"LogLevel ERROR",
	}, "\n")+"\n"), 0o600))
	var stderr bytes.Buffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf, "-p", strconv.Itoa(port))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Logf("sshd: %v", err)
		return sshdProc{}, false
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return sshdProc{port: port, user: u.Username, pid: cmd.Process.Pid}, true
		}
		if time.Now().After(deadline) {
			t.Logf("sshd did not start: %s", stderr.String())
			return sshdProc{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
