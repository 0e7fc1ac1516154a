package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// axe-core (Deque's accessibility engine, the one behind Lighthouse's
// accessibility score) runs on every page the Chromium tests save a
// screenshot of. It is an npm package, pinned in testdata/axe/package.json
// and package-lock.json; scripts/test runs `npm ci` there and sets
// SLS_REQUIRE_AXE=1 so that CI cannot skip it. Elsewhere (a plain
// `go test ./e2e`) a missing copy is reported once and the check is left
// to a11yScript alone.

var axeDir = filepath.Join("testdata", "axe", "node_modules", "axe-core")

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

func axeSource() (string, error) {
	axeOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(axeDir, "axe.min.js"))
		if err != nil {
			axeErr = fmt.Errorf("axe-core is not installed (run `npm ci` in e2e/testdata/axe, as scripts/test does): %w", err)
			return
		}
		axeSrc = string(b)
	})
	return axeSrc, axeErr
}

// axeViolation is one failed rule of axe-core's results.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeRun runs every axe-core rule for WCAG 2.0/2.1 A and AA and its best
// practices and returns the violations (with the CSS selectors of the
// elements at fault). Runtime.evaluate is not subject to the page's
// Content-Security-Policy, so the page's own CSP stays as served.
const axeRun = `(async () => {
  const r = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
    targets: v.nodes.map(n => n.target.join(" "))}));
})()`

var axeWarned sync.Once

// checkAxe fails the test on a serious or critical axe-core violation
// (among them color-contrast: WCAG 2.1 1.4.3, 4.5:1 for text) and logs the
// minor and moderate ones.
func (b *browser) checkAxe(name string) {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("SLS_REQUIRE_AXE") != "" {
			b.t.Fatal(err)
		}
		axeWarned.Do(func() { b.t.Logf("skipping axe-core: %v", err) })
		return
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`typeof axe === "object" || (function(){`+src+"\n}).call(window), true")); err != nil {
		b.t.Fatalf("injecting axe-core into %s: %v", name, err)
	}
	vs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", name, err)
	}
	var bad, minor []string
	for _, v := range vs {
		line := fmt.Sprintf("%s (%s) %s: %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			minor = append(minor, line)
		}
	}
	if len(minor) > 0 {
		b.t.Logf("axe-core on %s, minor: %s", name, strings.Join(minor, "; "))
	}
	if len(bad) > 0 {
		b.t.Errorf("axe-core on %s:\n  %s", name, strings.Join(bad, "\n  "))
	}
}
