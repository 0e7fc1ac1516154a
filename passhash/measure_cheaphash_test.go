package passhash

import "testing"

// TestCheapHashOnlyInMeasurementBuild: the parameters scripts/bench-ceiling
// gives a node are refused by the default build (OWASP's Password Storage
// Cheat Sheet floor, m=19 MiB t=2 or m=46 MiB t=1) and accepted only by
// the slsbench_cheaphash build (go test -tags slsbench_cheaphash -run
// CheapHash ./passhash: in that build the package's tests of the OWASP
// floor fail, as they should).
func TestCheapHashOnlyInMeasurementBuild(t *testing.T) {
	cheap := Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
	err := cheap.Validate()
	if measureFloor == nil {
		if err == nil {
			t.Fatal("the default build accepts m=64 KiB t=1: below OWASP's minimum")
		}
		return
	}
	if err != nil {
		t.Fatalf("the measurement build refuses %+v: %v", cheap, err)
	}
	for _, p := range []Params{{MemoryKiB: 4, Iterations: 1, Parallelism: 1}, {MemoryKiB: 64, Iterations: 0, Parallelism: 1},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 0}, {MemoryKiB: 5 * 1024 * 1024, Iterations: 1, Parallelism: 1}} {
		if p.Validate() == nil {
			t.Errorf("the measurement build accepts %+v", p)
		}
	}
	h, err := Hash([]byte("pw"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := Check([]byte("pw"), h, cheap); !ok || err != nil {
		t.Fatalf("a cheap hash does not check: %v %v", ok, err)
	}
}
