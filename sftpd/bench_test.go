package sftpd

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchDownload compares download throughput of this server with
// OpenSSH's sftp-server, both behind SSH (OpenSSH's under a private sshd
// started for the run), serving the same files to the same OpenSSH sftp
// client: one 256 MiB statement, and 1,000 statements of 4 KiB. It also
// times `sftp -D sftp-server` (no SSH at all) as a floor for protocol cost.
//
// Opt-in, as it moves about a gigabyte: SLS_BENCH=1 go test -run
// TestBenchDownload -v ./sftpd/. It reports and never fails on a time.
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

	targets := []benchTarget{{name: "sls sftpd", port: ts.port, user: "alice", dir: "/"}}
	if sshd, ok := startSSHD(t, good.Pub.Type()+" "+authorizedKey(t, good.OpenSSH)); ok {
		targets = append(targets, benchTarget{name: "OpenSSH sshd+sftp-server", port: sshd.port, user: sshd.user, dir: folder})
	} else {
		t.Log("sshd unavailable: comparing with sftp -D only (no SSH), which is not like for like")
	}
	if _, err := os.Stat("/usr/lib/openssh/sftp-server"); err == nil {
		targets = append(targets, benchTarget{name: "sftp -D sftp-server (no SSH)", direct: true, dir: folder})
	}

	ciphers := []string{"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"}
	if c := os.Getenv("SLS_BENCH_CIPHERS"); c != "" {
		ciphers = strings.Split(c, ",")
	}
	rounds := 3
	if r, err := strconv.Atoi(os.Getenv("SLS_BENCH_ROUNDS")); err == nil && r > 0 {
		rounds = r
	}
	type key struct{ target, cipher, load string }
	times := map[key][]time.Duration{}
	dst := t.TempDir()
	for _, cipher := range ciphers {
		for range rounds {
			// Interleaved, so that a busy moment on the machine hits every
			// server alike.
			for _, tg := range targets {
				if tg.direct && cipher != ciphers[0] {
					continue // no cipher without SSH
				}
				d := tg.download(t, good.OpenSSH, cipher, dst, "big")
				checkSize(t, filepath.Join(dst, "big.bin"), bigSize)
				times[key{tg.name, cipher, "big"}] = append(times[key{tg.name, cipher, "big"}], d)
				d = tg.download(t, good.OpenSSH, cipher, dst, "small")
				checkCount(t, filepath.Join(dst, "small"), nSmall, smallSize)
				times[key{tg.name, cipher, "small"}] = append(times[key{tg.name, cipher, "small"}], d)
			}
		}
	}

	var report strings.Builder
	fmt.Fprintf(&report, "download throughput, best of %d (median), OpenSSH sftp client, MB = 10^6 bytes\n", rounds)
	for _, cipher := range ciphers {
		fmt.Fprintf(&report, "cipher %s:\n", cipher)
		for _, load := range []string{"big", "small"} {
			bytesMoved := float64(bigSize)
			label := "1 x 256 MiB"
			if load == "small" {
				bytesMoved = float64(nSmall * smallSize)
				label = "1000 x 4 KiB"
			}
			var ref float64
			for _, tg := range targets {
				c := cipher
				if tg.direct {
					c = ciphers[0]
				}
				ds := times[key{tg.name, c, load}]
				if len(ds) == 0 {
					continue
				}
				best, med := slices.Min(ds), median(ds)
				mbs := bytesMoved / best.Seconds() / 1e6
				line := fmt.Sprintf("  %-12s %-30s %8.1f MB/s (median %8.1f) best %v", label, tg.name, mbs, bytesMoved/med.Seconds()/1e6, best.Round(time.Millisecond))
				if load == "small" {
					line += fmt.Sprintf(", %.0f files/s", float64(nSmall)/best.Seconds())
				}
				switch {
				case tg.name == "sls sftpd":
					ref = mbs
				case ref > 0:
					line += fmt.Sprintf("  -> sls/this = %.2f", ref/mbs)
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

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

type benchTarget struct {
	name   string
	port   int
	user   string
	dir    string // remote folder holding big.bin and small/
	direct bool   // sftp -D: no SSH
}

func (tg benchTarget) download(t *testing.T, key, cipher, dst, load string) time.Duration {
	t.Helper()
	os.RemoveAll(filepath.Join(dst, "big.bin"))
	os.RemoveAll(filepath.Join(dst, "small"))
	var batch string
	if load == "big" {
		batch = fmt.Sprintf("cd %s\nlcd %s\nget big.bin\n", tg.dir, dst)
	} else {
		os.Mkdir(filepath.Join(dst, "small"), 0o700)
		batch = fmt.Sprintf("cd %s\nlcd %s\nget *\n", tg.dir+"/small", filepath.Join(dst, "small"))
	}
	bf := filepath.Join(t.TempDir(), "batch")
	os.WriteFile(bf, []byte(batch), 0o600)
	var args []string
	if tg.direct {
		args = []string{"-q", "-b", bf, "-D", "/usr/lib/openssh/sftp-server"}
	} else {
		args = []string{"-q", "-b", bf, "-i", key, "-P", strconv.Itoa(tg.port), "-c", cipher,
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
			"-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "Compression=no",
			tg.user + "@127.0.0.1"}
	}
	cmd := exec.Command("sftp", args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tg.name, load, err, out)
	}
	return d
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
			return sshdProc{port: port, user: u.Username}, true
		}
		if time.Now().After(deadline) {
			t.Logf("sshd did not start: %s", stderr.String())
			return sshdProc{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
