package sftpd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
)

// recordingChannel records each Write it gets, as the SSH channel would
// make packets of them.
type recordingChannel struct {
	mu     sync.Mutex
	writes [][]byte
	closed bool
	fail   error
	block  chan struct{} // when set, each Write waits for a send or the close
}

func (c *recordingChannel) Write(p []byte) (int, error) {
	if c.block != nil {
		<-c.block
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *recordingChannel) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

// sftpPacket frames body as pkg/sftp does: uint32 length, then the body.
func sftpPacket(body []byte) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(len(body)))
}

// TestBatchWriterWholePackets checks that the channel only ever gets whole
// SFTP packets, in order, every byte of them, although they were written
// as a header and a payload, and that Close sends what is pending.
func TestBatchWriterWholePackets(t *testing.T) {
	ch := &recordingChannel{block: make(chan struct{})}
	b := newBatchWriter(ch)
	var want bytes.Buffer
	for i := range 50 {
		body := bytes.Repeat([]byte{byte(i)}, 100*i+1) // 122 KiB in all: under batchWait
		hdr := append(sftpPacket(body), body[:1]...)
		// Header and payload in two writes, as pkg/sftp writes them.
		for _, p := range [][]byte{hdr, body[1:]} {
			if _, err := b.Write(p); err != nil {
				t.Fatal(err)
			}
			want.Write(p)
		}
		if i == 0 {
			ch.block <- struct{}{} // the first packet goes out alone
		}
	}
	close(ch.block) // the channel is free again
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, w := range ch.writes {
		// Each channel write is a run of whole packets.
		for rest := w; len(rest) > 0; {
			if len(rest) < 4 {
				t.Fatalf("write ends in a partial length: %x", rest)
			}
			n := 4 + int(binary.BigEndian.Uint32(rest))
			if n > len(rest) {
				t.Fatalf("write ends in a partial packet: %d of %d bytes", len(rest), n)
			}
			rest = rest[n:]
		}
		got.Write(w)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("channel got %d bytes, want the %d written, in order", got.Len(), want.Len())
	}
	if len(ch.writes) >= 50 {
		t.Errorf("%d channel writes for 50 packets: nothing was batched while the channel was busy", len(ch.writes))
	}
	if ch.closed {
		t.Error("Close closed the channel, before its owner could send exit-status")
	}
	if _, err := b.Write([]byte{0}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// TestBatchWriterError checks that the channel's error reaches the writer
// and that no sender is left waiting.
func TestBatchWriterError(t *testing.T) {
	boom := errors.New("channel closed by peer")
	ch := &recordingChannel{fail: boom}
	b := newBatchWriter(ch)
	body := make([]byte, 64<<10)
	pkt := append(sftpPacket(body), body...)
	var err error
	for range 100 {
		if _, err = b.Write(pkt); err != nil {
			break
		}
	}
	if !errors.Is(err, boom) {
		t.Fatalf("Write error %v, want %v", err, boom)
	}
	b.Close()
}

var _ io.WriteCloser = (*batchWriter)(nil)
