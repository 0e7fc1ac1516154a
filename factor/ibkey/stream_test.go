package ibkey

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config/field"
	proto "github.com/secure-login-system/sls/ibkey"
	"github.com/secure-login-system/sls/login"
)

// streamServer serves node n's event stream for p's instance (the route's
// authentication is left out).
func streamServer(e *env, n node, p *phone, h2 bool) *httptest.Server {
	in := e.instance(p)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.svc.events(nil, w, r.WithContext(context.WithValue(r.Context(), instanceKey{}, in)))
	})
	srv := httptest.NewUnstartedServer(h)
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	e.t.Cleanup(srv.Close)
	return srv
}

type sseReader struct {
	t    *testing.T
	br   *bufio.Reader
	resp *http.Response
}

func openStream(t *testing.T, ctx context.Context, srv *httptest.Server) *sseReader {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	r := &sseReader{t: t, br: bufio.NewReader(resp.Body), resp: resp}
	if ev, _ := r.next(false); ev.Type != "hello" {
		t.Fatalf("first event: %+v", ev)
	}
	return r
}

// next reads the next event, or the next heartbeat when ping is set (a
// heartbeat is returned as an event of type "ping").
func (r *sseReader) next(ping bool) (proto.Event, error) {
	r.t.Helper()
	var ev proto.Event
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == ": ping" && ping:
			return proto.Event{Type: "ping"}, nil
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[len("data: "):]), &ev); err != nil {
				r.t.Fatalf("event data %q: %v", line, err)
			}
		case line == "" && ev.Type != "":
			return ev, nil
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEventStream runs a push through the app's event connection, over
// HTTP/1.1 (the connection is taken from net/http) and HTTP/2 (the
// handler stays): the push and its end are announced, heartbeats flow,
// and the stream ends when the app hangs up or the server shuts down.
func TestEventStream(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := map[bool]string{false: "http1", true: "http2"}[h2]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Config{Heartbeat: field.Duration(time.Second)})
			ctx := context.Background()
			alice, p := e.userWithApp("alice")
			srv := streamServer(e, e.a, p, h2)
			sctx, hangUp := context.WithCancel(ctx)
			defer hangUp()
			r := openStream(t, sctx, srv)
			if got := r.resp.ProtoMajor; got != map[bool]int{false: 1, true: 2}[h2] {
				t.Fatalf("protocol HTTP/%d", got)
			}
			waitFor(t, "the stream to count", func() bool { return e.a.svc.ConnectedApps() == 1 })

			// A login on node B; node A is told (the page's wait pokes it).
			st, err := e.b.login.Start(ctx, login.StartRequest{Username: "alice", Password: password, Platform: sls.PlatformTrading, ClientIP: "198.51.100.7"})
			if err != nil {
				t.Fatal(err)
			}
			e.a.svc.Hub().Poke(alice.ID)
			ev, err := r.next(false)
			if err != nil || ev.Type != "push" || ev.Push == nil || ev.Push.ID != extraOf(t, st).PushID || ev.Push.Username != "alice" {
				t.Fatalf("push event: %+v %v", ev, err)
			}
			if res, err := e.answerPush(e.a, p, *ev.Push, proto.DecisionApprove, st.Prompt.MatchNumber, nil); err != nil || res.State != sls.PushApproved {
				t.Fatalf("approve: %+v %v", res, err)
			}
			if ev, err := r.next(false); err != nil || ev.Type != "closed" || ev.ID != extraOf(t, st).PushID {
				t.Fatalf("closed event: %+v %v", ev, err)
			}
			if ev, err := r.next(true); err != nil || ev.Type != "ping" {
				t.Fatalf("heartbeat: %+v %v", ev, err)
			}

			// The app hangs up: the node lets go of the stream.
			hangUp()
			waitFor(t, "the stream to end at hang-up", func() bool { return e.a.svc.ConnectedApps() == 0 })
			if n := e.a.svc.Hub().Waiters(); n != 0 {
				t.Fatalf("%d hub waiters left", n)
			}

			// Server shutdown ends the streams it serves.
			r = openStream(t, ctx, srv)
			waitFor(t, "the second stream to count", func() bool { return e.a.svc.ConnectedApps() == 1 })
			sctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := srv.Config.Shutdown(sctx2); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			for {
				if _, err := r.next(true); err != nil {
					break
				}
			}
			waitFor(t, "the stream to end at shutdown", func() bool { return e.a.svc.ConnectedApps() == 0 })
		})
	}
}
