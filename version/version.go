// Package version says which build of SLS a program is, from the build
// information the Go toolchain embeds (module version, VCS revision and
// time, Go version), so that --version needs no build script.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// String is one line for --version: "slsd v1.2.3 (abc123def456, 2026-12-05T09:00:00Z) go1.26.8".
// A build from a checkout has the version "(devel)"; an edited checkout
// is marked "+dirty".
func String(program string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return program + " (no build information)"
	}
	return format(program, bi)
}

func format(program string, bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var details []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		details = append(details, rev)
	}
	if at != "" {
		details = append(details, at)
	}
	out := fmt.Sprintf("%s %s", program, v)
	if len(details) > 0 {
		out += " (" + strings.Join(details, ", ") + ")"
	}
	return out + " " + bi.GoVersion
}
