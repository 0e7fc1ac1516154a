package sls

import (
	"testing"
	"time"
)

func TestHoldOff(t *testing.T) {
	const base = 15 * time.Minute
	for _, c := range []struct {
		n, burst, max int
		want          time.Duration
	}{
		{1, 5, 100, 0}, {4, 5, 100, 0},
		{5, 5, 100, base}, {6, 5, 100, 0}, {10, 5, 100, 2 * base}, {15, 5, 100, 4 * base},
		{50, 5, 100, 24 * time.Hour}, // doubled past a day: capped
		{100, 5, 100, HeldOffIndefinitely}, {150, 5, 100, HeldOffIndefinitely},
		{3, 0, 0, 0}, {0, 5, 100, 0},
		{5*64 + 5, 5, 0, 24 * time.Hour}, // a shift past the duration's range is capped too
	} {
		if got := HoldOff(c.n, c.burst, base, c.max); got != c.want {
			t.Errorf("HoldOff(%d, burst %d, max %d) = %v, want %v", c.n, c.burst, c.max, got, c.want)
		}
	}
}
