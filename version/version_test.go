package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-05T09:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := format("slsd", bi), "slsd v1.2.3 (0123456789ab+dirty, 2026-12-05T09:00:00Z) go1.26.8"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := format("slsctl", &debug.BuildInfo{GoVersion: "go1.26.8"}); got != "slsctl (devel) go1.26.8" {
		t.Errorf("bare build: %q", got)
	}
	if s := String("x"); !strings.HasPrefix(s, "x ") {
		t.Errorf("String: %q", s)
	}
}
