package audit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func chain(n int) []Entry {
	var out []Entry
	var prev *Entry
	for i := 1; i <= n; i++ {
		e := Entry{Seq: int64(i), At: time.Unix(int64(1000+i), 0), Actor: "system", Event: "test", Detail: `{"i":1}`}
		Seal(&e, prev)
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out
}

func verifyAll(es []Entry) error {
	var v Verifier
	for _, e := range es {
		if err := v.Next(e); err != nil {
			return err
		}
	}
	return nil
}

func TestChainVerifies(t *testing.T) {
	if err := verifyAll(chain(5)); err != nil {
		t.Fatal(err)
	}
}

func TestFirstBrokenEntryReported(t *testing.T) {
	cases := map[string]func([]Entry) []Entry{
		"edited":   func(es []Entry) []Entry { es[2].Detail = `{"i":2}`; return es },
		"removed":  func(es []Entry) []Entry { return append(es[:2], es[3:]...) },
		"reorder":  func(es []Entry) []Entry { es[2], es[3] = es[3], es[2]; return es },
		"rehashed": func(es []Entry) []Entry { es[2].Event = "x"; es[2].Hash = Compute(es[2]); return es },
	}
	want := map[string]int64{"edited": 3, "removed": 4, "reorder": 4, "rehashed": 4}
	for name, mutate := range cases {
		err := verifyAll(mutate(chain(5)))
		var be *BrokenError
		if !errors.As(err, &be) || be.Seq != want[name] {
			t.Errorf("%s: err = %v, want break at %d", name, err, want[name])
		}
	}
}

// FuzzParseCheckpoint: the checkpoint file kept outside the database and
// export lines are read back; garbage is refused without a panic.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte(`{"seq":3,"hash":"` + Genesis + `","at":"2026-01-01T00:00:00Z","key_id":"ab","sig":"AAAA"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoint(b)
		if err == nil && (c.Seq < 0 || len(c.Hash) != 64) {
			t.Fatalf("accepted %q", b)
		}
	})
}

// FuzzParseKeys: the trusted keys file is refused cleanly when garbled.
func FuzzParseKeys(f *testing.F) {
	f.Add("# keys\n0123456789abcdef " + Genesis + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := ParseKeys(strings.NewReader(s))
		if err == nil {
			for id, k := range keys {
				if KeyID(k) != id {
					t.Fatalf("key %s does not match", id)
				}
			}
		}
	})
}
