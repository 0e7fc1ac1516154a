package deploy

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// queryMetric finds metric names in queries; sourceMetric in Go sources' Name:
// fields.
var (
	queryMetric  = regexp.MustCompile(`\bsls_[a-z_]+\b`)
	sourceMetric = regexp.MustCompile(`Name:\s*"(sls_[a-z_]+)"`)
)

// definedMetrics lists the metric names the Go sources of the repository
// define (every metric's name is a literal in its Opts' Name field),
// with the series a histogram adds.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range sourceMetric.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+suffix] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("only %d metric names found in the sources", len(names))
	}
	return names
}

// checkNames fails for every sls_ name in text the server does not define.
func checkNames(t *testing.T, file, text string, defined map[string]bool) int {
	t.Helper()
	n := 0
	for _, name := range queryMetric.FindAllString(text, -1) {
		n++
		if !defined[name] {
			t.Errorf("%s uses %s, which no code defines", file, name)
		}
	}
	return n
}

// TestDashboardAndAlertsUseRealMetrics: the Grafana dashboard and the
// alert rules query only metrics the server defines, so that a renamed
// metric cannot leave an empty panel or an alert that never fires.
func TestDashboardAndAlertsUseRealMetrics(t *testing.T) {
	defined := definedMetrics(t)
	raw, err := os.ReadFile("grafana/sls-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if len(dash.Panels) < 8 {
		t.Fatalf("dashboard has %d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, q := range p.Targets {
			checkNames(t, "dashboard panel "+p.Title, q.Expr, defined)
		}
	}
	rules, err := os.ReadFile("prometheus/sls-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if checkNames(t, "alert rules", string(rules), defined) < 5 {
		t.Errorf("the alert rules use hardly any SLS metric")
	}
}

// TestAlertRules: promtool reads the rules without a complaint.
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	out, err := exec.Command(promtool, "check", "rules", "prometheus/sls-alerts.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}
