package audit

import (
	"crypto/subtle"
	"fmt"
	"sort"
)

// Evidence checks the trail against signed checkpoints as it streams
// through: besides what Verifier finds (an edited, missing or reordered
// entry), it finds
//   - a rewritten chain: the hashes agree with one another but not with a
//     checkpoint signed before the rewrite;
//   - a deleted tail: a checkpoint (the latest one is also kept outside
//     the database) names an entry the trail no longer has;
//   - a forged or edited checkpoint: a bad signature or an untrusted key.
type Evidence struct {
	v     Verifier
	keys  Keys
	at    map[int64][]Checkpoint
	max   Checkpoint
	count int
}

// EvidenceError says what was found and where.
type EvidenceError struct {
	Seq    int64
	Reason string
}

func (e *EvidenceError) Error() string {
	return fmt.Sprintf("audit: entry %d: %s", e.Seq, e.Reason)
}

// NewEvidence prepares a check against checkpoints (from the database)
// and outside (the latest checkpoint kept outside it; may be nil), signed
// by trusted keys. A checkpoint that does not verify is an error at once.
func NewEvidence(keys Keys, checkpoints []Checkpoint, outside *Checkpoint) (*Evidence, error) {
	ev := &Evidence{keys: keys, at: map[int64][]Checkpoint{}}
	all := checkpoints
	if outside != nil {
		all = append(append([]Checkpoint(nil), checkpoints...), *outside)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	for _, c := range all {
		if err := c.Verify(keys); err != nil {
			return nil, &EvidenceError{c.Seq, err.Error()}
		}
		ev.at[c.Seq] = append(ev.at[c.Seq], c)
		if c.Seq >= ev.max.Seq {
			ev.max = c
		}
		ev.count++
	}
	return ev, nil
}

// Next checks the next entry of the trail, in order.
func (ev *Evidence) Next(e Entry) error {
	if err := ev.v.Next(e); err != nil {
		return err
	}
	for _, c := range ev.at[e.Seq] {
		if subtle.ConstantTimeCompare([]byte(c.Hash), []byte(e.Hash)) != 1 {
			return &EvidenceError{e.Seq, fmt.Sprintf("the trail was rewritten at or before this entry: its hash differs from the checkpoint signed at %s by key %s",
				c.At.Format("2006-01-02T15:04:05Z"), c.KeyID)}
		}
	}
	return nil
}

// Finish checks that the trail reaches every checkpoint.
func (ev *Evidence) Finish() error {
	if last := ev.v.Count(); ev.max.Seq > last {
		return &EvidenceError{last + 1, fmt.Sprintf("entries %d to %d were deleted: the trail ends at %d but a checkpoint signed at %s covers entry %d",
			last+1, ev.max.Seq, last, ev.max.At.Format("2006-01-02T15:04:05Z"), ev.max.Seq)}
	}
	return nil
}

// Count is the number of entries checked; Checkpoints the number of
// checkpoints held against them.
func (ev *Evidence) Count() int64     { return ev.v.Count() }
func (ev *Evidence) Checkpoints() int { return ev.count }
func (ev *Evidence) Head() string     { return ev.v.Head() }
