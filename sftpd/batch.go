package sftpd

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// batchWriter sits between pkg/sftp and the SSH channel and hands the
// channel whole SFTP packets, gathered into as few channel writes as the
// load allows.
//
// Why: pkg/sftp writes each response in two calls, its 13-byte header and
// then its data, and the SSH channel makes an SSH packet of every write
// (RFC 4254 §5.2), so a 32 KiB read cost two SSH packets (one of them
// 13 bytes), two encryptions with their per-packet set-up and MAC, and two
// socket writes. The channel splits a larger write into packets of the
// peer's maximum size, so passing it several responses at once yields full
// packets instead. The writing is done by a goroutine of its own, which also
// lets pkg/sftp's sender go on with the next response while the last one is
// encrypted.
//
// Nothing waits for a batch to fill: the writer goroutine sends whatever
// whole packets are pending as soon as it is free, so a lone response (a
// STAT, the last block of a file) leaves at once; responses only gather
// while the channel is busy with the previous ones.
type batchWriter struct {
	w   io.Writer
	max int // pending bytes above which Write waits

	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte // bytes written and not yet taken by the writer goroutine
	whole   int    // pending[:whole] are complete SFTP packets
	spare   []byte // the other buffer, reused once the goroutine is done with it
	closing bool
	err     error         // first write error, or errBatchClosed
	done    chan struct{} // closed when the writer goroutine returns
}

// batchWait bounds the bytes pending for the channel; a sender past it waits,
// as it would have waited in the channel's own flow control. It holds a few
// of the largest responses pkg/sftp sends (data packets of up to 32 KiB).
const batchWait = 256 << 10

var errBatchClosed = errors.New("sftpd: sftp output closed")

func newBatchWriter(w io.Writer) *batchWriter {
	b := &batchWriter{w: w, max: batchWait, done: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	go b.run()
	return b
}

// Write queues p, which may hold any part of the SFTP packet stream, and
// returns once it is queued (it keeps no reference to p, so pkg/sftp may
// reuse its buffer). It returns the channel's first error, if any.
func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Wait only while the goroutine has whole packets to take, so that an
	// incomplete packet, however long, never waits for itself.
	for b.err == nil && b.whole > 0 && len(b.pending) >= b.max {
		b.cond.Wait()
	}
	if b.err != nil {
		return 0, b.err
	}
	b.pending = append(b.pending, p...)
	// Advance over the packets that are now complete (RFC draft-ietf-secsh-
	// filexfer-02 §3: uint32 length, then that many bytes).
	before := b.whole
	for len(b.pending)-b.whole >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(b.pending[b.whole:]))
		if len(b.pending)-b.whole < n {
			break
		}
		b.whole += n
	}
	if b.whole > before {
		b.cond.Broadcast()
	}
	return len(p), nil
}

// run is the writer goroutine: it takes the complete packets pending and
// writes them to the channel, until Close or the first error.
func (b *batchWriter) run() {
	defer close(b.done)
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for b.whole == 0 && !b.closing && b.err == nil {
			b.cond.Wait()
		}
		if b.err != nil || b.whole == 0 {
			return // closing with nothing complete left to send
		}
		batch := b.pending[:b.whole]
		// The incomplete tail, at most one packet's start, moves to the
		// other buffer, which becomes the one Write appends to.
		b.pending = append(b.spare[:0], b.pending[b.whole:]...)
		b.whole = 0
		b.cond.Broadcast() // room for waiting senders
		b.mu.Unlock()
		_, err := b.w.Write(batch)
		b.mu.Lock()
		b.spare = batch[:0]
		if err != nil {
			b.err = err
			b.cond.Broadcast()
			return
		}
	}
}

// Close sends what is pending and stops the writer goroutine; later
// writes fail. The channel stays open: its owner sends exit-status on it
// before closing it (RFC 4254 §6.10).
func (b *batchWriter) Close() error {
	b.mu.Lock()
	b.closing = true
	b.cond.Broadcast()
	b.mu.Unlock()
	<-b.done
	b.mu.Lock()
	if b.err == nil {
		b.err = errBatchClosed
	}
	b.cond.Broadcast()
	b.mu.Unlock()
	return nil
}

// batchConn gives pkg/sftp the channel to read from and the batchWriter to
// write to.
type batchConn struct {
	io.Reader
	*batchWriter
}
