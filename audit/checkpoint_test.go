package audit

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func keyPair(t *testing.T) (ed25519.PrivateKey, Keys) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv, Keys{KeyID(pub): pub}
}

func check(t *testing.T, es []Entry, keys Keys, cps []Checkpoint, outside *Checkpoint) error {
	t.Helper()
	ev, err := NewEvidence(keys, cps, outside)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := ev.Next(e); err != nil {
			return err
		}
	}
	return ev.Finish()
}

func TestEvidenceFindsEachTampering(t *testing.T) {
	priv, keys := keyPair(t)
	es := chain(20)
	at := time.Unix(5000, 0)
	cp10 := SignCheckpoint(priv, 10, es[9].Hash, at)
	cp20 := SignCheckpoint(priv, 20, es[19].Hash, at)
	if err := check(t, es, keys, []Checkpoint{cp10}, &cp20); err != nil {
		t.Fatalf("intact trail: %v", err)
	}

	// An edited row: the chain itself says where.
	edited := append([]Entry(nil), es...)
	edited[4].Detail = `{"i":2}`
	var broken *BrokenError
	if err := check(t, edited, keys, []Checkpoint{cp10}, &cp20); !errors.As(err, &broken) || broken.Seq != 5 {
		t.Fatalf("edited: %v", err)
	}

	// A deleted tail, after the last periodic checkpoint: the checkpoint
	// kept outside the database still covers it.
	var ev *EvidenceError
	if err := check(t, es[:17], keys, []Checkpoint{cp10}, &cp20); !errors.As(err, &ev) || ev.Seq != 18 || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("deleted tail: %v", err)
	}

	// A rewritten chain: every hash recomputed from entry 5 on.
	rewritten := append([]Entry(nil), es[:4]...)
	for i := 4; i < 20; i++ {
		e := es[i]
		if i == 4 {
			e.Detail = `{"i":"rewritten"}`
		}
		Seal(&e, &rewritten[i-1])
		rewritten = append(rewritten, e)
	}
	if err := verifyAll(rewritten); err != nil {
		t.Fatalf("the rewrite should be self-consistent: %v", err)
	}
	if err := check(t, rewritten, keys, []Checkpoint{cp10}, &cp20); !errors.As(err, &ev) || ev.Seq != 10 || !strings.Contains(err.Error(), "rewritten at or before") {
		t.Fatalf("rewritten: %v", err)
	}

	// A forged checkpoint: an untrusted key, or a signature that does not
	// cover the fields.
	other, _ := keyPair(t)
	forged := SignCheckpoint(other, 20, rewritten[19].Hash, at)
	if err := check(t, rewritten, keys, []Checkpoint{forged}, nil); err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("untrusted key: %v", err)
	}
	moved := cp10
	moved.Hash = rewritten[9].Hash
	if err := check(t, rewritten, keys, []Checkpoint{moved}, nil); err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("edited checkpoint: %v", err)
	}
}

func TestKeysFile(t *testing.T) {
	_, keys := keyPair(t)
	var text string
	for _, pub := range keys {
		text = "# audit keys\n\n" + FormatKey(pub)
	}
	got, err := ParseKeys(strings.NewReader(text))
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"abc", "0011 zz", strings.Repeat("0", 16) + " " + strings.Repeat("ab", 32)} {
		if _, err := ParseKeys(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
