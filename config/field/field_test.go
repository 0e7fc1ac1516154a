package field

import (
	"errors"
	"fmt"
	"testing"
)

func TestWithinAndFlatten(t *testing.T) {
	var errs Errors
	errs.Addf("max_failures", "too many")
	errs.Add("argon2", errors.New("memory too low"))
	errs.Add("gateway", Errorf("url", "not https"))
	errs.Add("x", nil)
	got := Flatten(Within("login", errs.Err()))
	want := []string{"login.max_failures: too many", "login.argon2: memory too low", "login.gateway.url: not https"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].Error() != want[i] {
			t.Errorf("%d: %q, want %q", i, got[i].Error(), want[i])
		}
	}
	if Within("a", nil) != nil || (Errors{}).Err() != nil {
		t.Error("no problem became one")
	}
	if p := Flatten(Within("streams", Errorf("[2]", "bad")))[0].Path; p != "streams[2]" {
		t.Errorf("index path %q", p)
	}
	if p := Flatten(fmt.Errorf("wrapped: %w", Errorf("f", "bad")))[0].Path; p != "f" {
		t.Errorf("wrapped path %q", p)
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	for _, bad := range []string{`5`, `"forever"`, `"-1s"`} {
		if d.UnmarshalJSON([]byte(bad)) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if err := d.UnmarshalJSON([]byte(`"90s"`)); err != nil || d.D().Seconds() != 90 {
		t.Errorf("90s: %v %v", d, err)
	}
	if b, _ := d.MarshalJSON(); string(b) != `"1m30s"` {
		t.Errorf("marshal %s", b)
	}
}
