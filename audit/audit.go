// Package audit computes and verifies the hash chain of the append-only
// audit trail. Each entry's hash covers its own fields and the previous
// entry's hash, so removing, reordering or editing any stored entry breaks
// the chain at that entry, which Verify reports.
package audit

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// Entry is one audit event as stored.
type Entry struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"` // "user:<id>", "operator:<name>", "system"
	Event    string    `json:"event"` // e.g. "login.success"
	UserID   string    `json:"user_id,omitempty"`
	DeviceID string    `json:"device_id,omitempty"`
	Detail   string    `json:"detail,omitempty"` // JSON object; never secrets
	PrevHash string    `json:"prev_hash"`        // hex
	Hash     string    `json:"hash"`             // hex
}

// Genesis is the previous hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Compute returns the hex hash of e chained to e.PrevHash. The encoding is
// length-prefixed so that no two different entries encode the same.
func Compute(e Entry) string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	h.Write([]byte("sls audit v1\x00"))
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.At.UTC().UnixMicro()))
	h.Write(n[:])
	put(e.Actor)
	put(e.Event)
	put(e.UserID)
	put(e.DeviceID)
	put(e.Detail)
	put(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal fills in e.PrevHash and e.Hash for an entry that follows prev
// (nil for the first entry).
func Seal(e *Entry, prev *Entry) {
	if prev == nil {
		e.PrevHash = Genesis
	} else {
		e.PrevHash = prev.Hash
	}
	e.Hash = Compute(*e)
}

// BrokenError reports the first entry at which the chain does not hold.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit: chain broken at entry %d: %s", e.Seq, e.Reason)
}

// Verifier checks entries one at a time, in order, so that a trail of any
// length can be streamed through it.
type Verifier struct {
	prev  *Entry
	count int64
}

// Next checks e against the entries seen so far. It returns a *BrokenError
// for the first entry that does not fit.
func (v *Verifier) Next(e Entry) error {
	wantPrev, wantSeq := Genesis, int64(1)
	if v.prev != nil {
		wantPrev, wantSeq = v.prev.Hash, v.prev.Seq+1
	}
	switch {
	case e.Seq != wantSeq:
		return &BrokenError{e.Seq, fmt.Sprintf("sequence %d follows %d (an entry is missing or reordered)", e.Seq, wantSeq-1)}
	case subtle.ConstantTimeCompare([]byte(e.PrevHash), []byte(wantPrev)) != 1:
		return &BrokenError{e.Seq, "previous hash does not match the entry before"}
	case subtle.ConstantTimeCompare([]byte(Compute(e)), []byte(e.Hash)) != 1:
		return &BrokenError{e.Seq, "entry content does not match its hash (edited)"}
	}
	c := e
	v.prev = &c
	v.count++
	return nil
}

// Count is the number of entries verified so far.
func (v *Verifier) Count() int64 { return v.count }

// Head is the last verified entry's hash (Genesis before any).
func (v *Verifier) Head() string {
	if v.prev == nil {
		return Genesis
	}
	return v.prev.Hash
}
