package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --check-config reports every problem of a file, each with its path,
// without opening anything.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"login": {"max_failures": 500}, "sftp": {"retention_days": "long"}, "portal": {"brnad": "X"}}`), 0o600)
	err := run([]string{"--config", bad, "--check-config"})
	if err == nil {
		t.Fatal("a file with three mistakes passed")
	}
	for _, path := range []string{"login.max_failures", "sftp.retention_days", "portal.brnad", "3 problems"} {
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%q not reported:\n%v", path, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sls-data")); err == nil {
		t.Error("--check-config opened a data directory")
	}

	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"login": {"max_failures": 20}}`), 0o600)
	if err := run([]string{"--config", good, "--check-config"}); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"--check-config"}); err == nil {
		t.Error("--check-config without --config passed")
	}
}
