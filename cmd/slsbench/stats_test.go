package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var times []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		times = append(times, time.Duration(i)*time.Millisecond)
	}
	s := stepStats("password", times)
	if s.Count != 100 || s.P50 != 50 || s.P95 != 95 || s.P99 != 99 || s.Max != 100 {
		t.Fatalf("%+v", s)
	}
	if e := stepStats("x", nil); e.Count != 0 || e.P99 != 0 {
		t.Fatalf("empty: %+v", e)
	}
}

func TestReport(t *testing.T) {
	rec := newRecorder()
	for range 10 {
		rec.add(stepPassword, 30*time.Millisecond)
		rec.add(stepFlow, 40*time.Millisecond)
	}
	rec.fail(stepPassword, "429 rate_limited")
	rep := &report{Flow: "password", Concurrency: 2}
	rep.fill(rec, 2*time.Second, 40, 60)
	if rep.Flows != 10 || rep.FlowsPerSec != 5 || rep.Bound.HashesPerSecond != 50 || rep.Ratio != 0.1 || rep.ErrorCount != 1 {
		t.Fatalf("%+v %+v", rep, rep.Bound)
	}
	var out bytes.Buffer
	rep.print(&out, "text")
	for _, want := range []string{"flows       10 (5.0/s), errors 1", "0.10× the bound", "password", "docs/sizing.md"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("%q missing:\n%s", want, out.String())
		}
	}
}

func TestProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, ok := procCPU(os.Getpid()); !ok {
		t.Fatal("own CPU time unreadable")
	}
	if _, ok := procCPU(-1); ok {
		t.Fatal("a missing process has a CPU time")
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []options{{flow: "x", concurrency: 1, duration: time.Second, output: "text"}, {flow: "password", concurrency: 0, duration: time.Second, output: "text"},
		{flow: "password", concurrency: 1, duration: 0, output: "text"}, {flow: "password", concurrency: 1, duration: time.Second, output: "yaml"}} {
		if o.check() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	o := options{flow: "dscplus", concurrency: 3, duration: time.Second, output: "json"}
	if o.check() != nil || o.users != 3 {
		t.Errorf("users default to the concurrency: %+v", o)
	}
}
