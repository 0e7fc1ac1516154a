package ibkey

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	proto "github.com/secure-login-system/sls/ibkey"
)

// An app's event connection is idle almost all its life, and a node holds
// tens of thousands of them, so an idle one costs as little as Go allows.
// Over HTTP/1.x the handler takes the connection from net/http
// (http.Hijacker) once the stream has begun and returns: the serving
// goroutine, its stack and net/http's 4 KiB read and write buffers are
// released. What stays is the connection itself, one goroutine parked in
// a one-byte read (it notices the app hanging up), one timer (heartbeat,
// lifetime and the periodic safety re-read) and a hub subscription. A
// change of the instance's pushes runs a short-lived goroutine that reads
// them and writes the events. Where the connection cannot be taken
// (HTTP/2 over TLS) the handler stays, parked, and the same code writes
// through the ResponseWriter.

// streamWriteTimeout bounds one write to an app: an app that stops
// reading loses its connection rather than holding a writer.
const streamWriteTimeout = 10 * time.Second

// eventSink is where a stream's bytes go.
type eventSink interface {
	// write writes p and flushes it to the app.
	write(p []byte) error
	// abort unblocks a write in progress and ends the connection; it may
	// be called at any time, from any goroutine.
	abort()
}

// connSink is a connection taken from net/http. The response has no
// length and says "Connection: close", so its body is everything until
// the connection closes (RFC 9112 §6.3, last rule).
type connSink struct{ c net.Conn }

func (k connSink) write(p []byte) error {
	if err := k.c.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil {
		return err
	}
	_, err := k.c.Write(p)
	return err
}

func (k connSink) abort() { k.c.Close() }

// responseSink writes through the handler's ResponseWriter, which the
// handler keeps alive until the stream ends.
type responseSink struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (k responseSink) write(p []byte) error {
	_ = k.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := k.w.Write(p); err != nil {
		return err
	}
	return k.rc.Flush()
}

func (responseSink) abort() {} // the handler returns, which ends the response

// stream is one open event connection.
type stream struct {
	s   *Service
	in  *sls.IBKeyInstance
	srv *http.Server // the server it came through (closed at its shutdown)
	end time.Time    // when StreamLifetime is over
	out eventSink
	// done is closed when the stream ends.
	done chan struct{}

	// wmu serialises writes; dead, sent and beats go with what was
	// written.
	wmu   sync.Mutex
	dead  bool
	sent  map[string]struct{} // pushes announced and still open (nil: none)
	beats int

	// mu guards the rest. It is never held during I/O, a database call or
	// a call into the hub: the hub calls kick with its own lock held.
	mu      sync.Mutex
	closed  bool
	running bool // a refresh is under way
	again   bool // a change arrived during it: read again
	users   []string
	unwatch func()
	timer   *time.Timer
}

// events is the app's long-lived connection (server-sent events, the
// WHATWG HTML "text/event-stream" format): a "push" event for each new
// request to a user the instance holds, "closed" when one stops waiting,
// and a comment line as heartbeat. It needs no third-party push service.
func (s *Service) events(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	st := &stream{s: s, in: instanceOf(r), end: time.Now().Add(s.cfg.StreamLifetime.D()), done: make(chan struct{})}
	st.srv, _ = r.Context().Value(http.ServerContextKey).(*http.Server)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	hello := eventBytes(proto.Event{Type: "hello"})
	rc := http.NewResponseController(w)
	var conn net.Conn
	if r.Method == http.MethodGet {
		conn, _, _ = rc.Hijack() // fails on HTTP/2: the handler then stays
	}
	if conn != nil {
		w.Header().Set("Connection", "close")
		head := []byte("HTTP/1.1 200 OK\r\nDate: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
		head = appendHeader(head, w.Header())
		st.out = connSink{conn}
		if st.out.write(append(append(head, "\r\n"...), hello...)) != nil {
			conn.Close()
			return
		}
	} else {
		// The server's ReadTimeout would end (and cancel) a connection
		// that lives longer; the stream reads nothing after its headers.
		_ = rc.SetReadDeadline(time.Time{})
		w.WriteHeader(http.StatusOK)
		st.out = responseSink{w: w, rc: rc}
		if st.out.write(hello) != nil {
			return
		}
	}
	s.touch(r.Context(), st.in)
	if !s.addStream(st) {
		st.out.abort()
		return
	}
	if st.start() {
		st.refresh()
	}
	if conn == nil {
		select {
		case <-st.done:
		case <-r.Context().Done():
			st.close()
		}
		return
	}
	go st.watchHangUp(conn)
}

// start subscribes the stream to its instance's changes and arms its
// timer; it reports false when the stream has already ended. The caller
// then runs the first refresh.
func (st *stream) start() bool {
	st.running = true // before the first kick can come
	// Never with st.mu held: the hub calls kick with its own lock held.
	unwatch := st.s.hub.Watch(st.kick, instanceTopic(st.in.ID))
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		unwatch()
		return false
	}
	st.unwatch = unwatch
	st.timer = time.AfterFunc(st.nextBeat(), st.beat)
	return true
}

// appendHeader appends h in wire form.
func appendHeader(b []byte, h http.Header) []byte {
	var buf bytesWriter
	buf.b = b
	_ = h.Write(&buf)
	return buf.b
}

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// watchHangUp ends the stream when the app closes its side: the app sends
// nothing after its request, so a read returns only then.
func (st *stream) watchHangUp(c net.Conn) {
	var b [1]byte
	for {
		if _, err := c.Read(b[:]); err != nil {
			st.close()
			return
		}
	}
}

func eventBytes(ev proto.Event) []byte {
	b, _ := json.Marshal(ev)
	return append(append(append(append([]byte("event: "), ev.Type...), "\ndata: "...), b...), "\n\n"...)
}

// kick asks for a re-read of the instance's pushes (the hub calls it at a
// change, with the hub locked): at most one runs at a time, and a change
// during a read makes it read again, so none is missed.
func (st *stream) kick() {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.closed:
	case st.running:
		st.again = true
	default:
		st.running = true
		go st.refresh()
	}
}

// refresh reads the instance's pending pushes and announces what changed,
// until no change arrived meanwhile. The caller has set running.
func (st *stream) refresh() {
	ctx := st.s.life
	for {
		pending, users, err := st.s.Pending(ctx, st.in)
		if err != nil {
			st.close()
			return
		}
		st.mu.Lock()
		closed, same := st.closed, sameSet(st.users, users)
		st.mu.Unlock()
		if closed {
			return
		}
		if !same {
			// Watched from now on, then read again, so no change of a
			// new user slips in between. (Watch never runs with st.mu
			// held: the hub calls kick with its own lock held.)
			unwatch := st.s.hub.Watch(st.kick, append([]string{instanceTopic(st.in.ID)}, users...)...)
			st.mu.Lock()
			if st.closed {
				st.mu.Unlock()
				unwatch()
				return
			}
			old := st.unwatch
			st.users, st.unwatch = users, unwatch
			st.mu.Unlock()
			old()
			continue
		}
		if !st.deliver(pending) {
			st.close()
			return
		}
		st.mu.Lock()
		if st.closed || !st.again {
			st.running = false
			st.mu.Unlock()
			return
		}
		st.again = false
		st.mu.Unlock()
	}
}

// deliver announces the pending pushes not announced yet, and the end of
// those announced that no longer wait.
func (st *stream) deliver(pending []proto.Push) bool {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if st.dead {
		return false
	}
	var msg []byte
	open := make(map[string]struct{}, len(pending))
	for i := range pending {
		p := &pending[i]
		open[p.ID] = struct{}{}
		if _, ok := st.sent[p.ID]; !ok {
			msg = append(msg, eventBytes(proto.Event{Type: "push", Push: p})...)
		}
	}
	for id := range st.sent {
		if _, ok := open[id]; !ok {
			msg = append(msg, eventBytes(proto.Event{Type: "closed", ID: id})...)
		}
	}
	if len(msg) > 0 && st.out.write(msg) != nil {
		return false
	}
	st.sent = nil
	if len(open) > 0 {
		st.sent = open
	}
	return true
}

// beat is the stream's one timer: a heartbeat comment, every safetyBeats
// beats a re-read in case a change escaped the database poll (a commit
// slower than its overlap), and the end of the stream's lifetime.
func (st *stream) beat() {
	if !time.Now().Before(st.end) {
		st.close()
		return
	}
	st.wmu.Lock()
	st.beats++
	n := st.beats
	ok := !st.dead && st.out.write([]byte(": ping\n\n")) == nil
	st.wmu.Unlock()
	if !ok {
		st.close()
		return
	}
	if n%safetyBeats == 0 {
		st.kick()
	}
	st.mu.Lock()
	if !st.closed {
		st.timer.Reset(st.nextBeat())
	}
	st.mu.Unlock()
}

// nextBeat is the wait until the next heartbeat, or until the end of the
// lifetime when that comes first.
func (st *stream) nextBeat() time.Duration {
	return max(min(st.s.cfg.Heartbeat.D(), time.Until(st.end)), 0)
}

// close ends the stream (idempotent, any goroutine).
func (st *stream) close() {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return
	}
	st.closed = true
	unwatch, timer := st.unwatch, st.timer
	st.unwatch = nil
	st.mu.Unlock()
	if unwatch != nil {
		unwatch()
	}
	if timer != nil {
		timer.Stop()
	}
	st.out.abort() // unblocks a write in progress
	st.wmu.Lock()
	st.dead = true
	st.wmu.Unlock()
	st.s.dropStream(st)
	close(st.done)
}

// streamSet holds a node's open streams, to end them when the node or
// their HTTP server stops (http.Server.Shutdown knows nothing of a taken
// connection, and waits forever for a handler that streams).
type streamSet struct {
	mu     sync.Mutex
	all    map[*stream]struct{}
	hooked map[*http.Server]bool
	ended  bool
}

// addStream registers st; it reports false when the node is stopping.
func (s *Service) addStream(st *stream) bool {
	set := &s.open
	set.mu.Lock()
	defer set.mu.Unlock()
	if set.ended {
		return false
	}
	if set.all == nil {
		set.all, set.hooked = map[*stream]struct{}{}, map[*http.Server]bool{}
	}
	set.all[st] = struct{}{}
	s.streams.Add(1)
	if srv := st.srv; srv != nil && !set.hooked[srv] {
		set.hooked[srv] = true
		srv.RegisterOnShutdown(func() { s.closeStreams(srv) })
	}
	return true
}

func (s *Service) dropStream(st *stream) {
	s.open.mu.Lock()
	defer s.open.mu.Unlock()
	if _, ok := s.open.all[st]; ok {
		delete(s.open.all, st)
		s.streams.Add(-1)
	}
}

// closeStreams ends the streams that came through srv (nil: all, and no
// new one is accepted).
func (s *Service) closeStreams(srv *http.Server) {
	s.open.mu.Lock()
	if srv == nil {
		s.open.ended = true
	}
	var list []*stream
	for st := range s.open.all {
		if srv == nil || st.srv == srv {
			list = append(list, st)
		}
	}
	s.open.mu.Unlock()
	for _, st := range list {
		st.close()
	}
}
