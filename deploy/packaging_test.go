// Package deploy holds what runs SLS outside a checkout: the systemd unit
// (systemd/), the Grafana dashboard (grafana/) and Prometheus alert rules
// (prometheus/), and, at the repository's root, the Dockerfile and
// compose.yaml. Its tests check them with the real tools when they are
// installed.
package deploy

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSystemdUnit: systemd itself reads the unit without a complaint, and
// the unit keeps its hardening.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile("systemd/slsd.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
		"PrivateDevices=yes", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=", "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes",
		"StateDirectory=sls", "UMask=0077"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lost %q", strings.TrimSpace(want))
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	// verify wants ExecStart's binary to exist; any executable will do.
	path := filepath.Join(t.TempDir(), "slsd.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/slsd", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(analyze, "verify", path).CombinedOutput()
	// It exits 0 even for unknown keys and bad values, which it prints.
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("systemd-analyze verify:\n%s", s)
	}
}

// TestContainerImage builds the image and runs slsd --version in it when
// a container runtime answers; otherwise it checks the Dockerfile's rules
// (hadolint is not packaged for Debian).
func TestContainerImage(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages, lastUser string
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			stages += f[1] + " "
			if !strings.Contains(f[1], ":") || strings.HasSuffix(f[1], ":latest") {
				t.Errorf("base image %s is not pinned to a tag", f[1])
			}
			lastUser = ""
		case "USER":
			lastUser = f[1]
		case "ADD":
			t.Errorf("ADD %s: use COPY (ADD fetches URLs and unpacks archives)", f[1])
		}
	}
	if lastUser == "" || strings.HasPrefix(lastUser, "root") || strings.HasPrefix(lastUser, "0") {
		t.Errorf("the final stage runs as %q, not an unprivileged user", lastUser)
	}
	if strings.Count(stages, " ") < 2 {
		t.Error("not a multi-stage build: the runtime image would hold the toolchain")
	}
	docker, err := exec.LookPath("docker")
	if err != nil || exec.Command(docker, "info").Run() != nil {
		t.Skip("no container runtime answers: the image is not built")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "build", "-t", "sls-test:latest", "..").CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, docker, "run", "--rm", "sls-test:latest", "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "slsd ") {
		t.Fatalf("slsd --version in the image: %v %s", err, out)
	}
}
