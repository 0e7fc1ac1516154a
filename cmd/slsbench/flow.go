package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/factor/dscplus"
)

// Flows slsbench runs (--flow).
const (
	// flowDSCPlus is a full two-factor login and its logout.
	flowDSCPlus = "dscplus"
	// flowLogin is a full login (password, then the DSC+ answered),
	// the session left to expire: the "full login" figure.
	flowLogin = "login"
	// flowPassword is the password step alone, the login left to expire.
	flowPassword = "password"
)

// flows are the valid --flow values, in the order the help lists them.
var flows = []string{flowDSCPlus, flowLogin, flowPassword}

// answersCards reports whether flow answers DSC+ challenges, so needs
// the users' card files.
func answersCards(flow string) bool { return flow != flowPassword }

// Steps of a flow, as reported.
const (
	stepPassword = "password"
	stepSelect   = "select"
	stepAnswer   = "answer"
	stepLogout   = "logout"
	stepFlow     = "flow"
)

// load runs flows as the clients of the test users would.
type load struct {
	apis  []*client.Client // the nodes, round robin by worker
	users []*benchUser
	flow  string
	next  atomic.Uint64
}

// run keeps concurrency flows in flight for d (or until ctx ends) and
// returns how long it ran. A flow in flight at the end is finished and
// counted: the clock stops when the last one ends.
func (l *load) run(ctx context.Context, concurrency int, d time.Duration, rec *recorder) time.Duration {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := time.AfterFunc(d, cancel)
	defer stop.Stop()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				u := l.users[(int(l.next.Add(1))+w)%len(l.users)]
				l.one(context.WithoutCancel(ctx), l.apis[w%len(l.apis)], u, rec)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// step is one answer of a flow.
type step struct {
	status int
	body   map[string]any
	raw    []byte
}

func (s step) str(keys ...string) string {
	var v any = s.body
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	out, _ := v.(string)
	return out
}

// one runs one flow; a refused or failed step ends it as an error.
func (l *load) one(ctx context.Context, api *client.Client, u *benchUser, rec *recorder) {
	flowStart := time.Now()
	u.mu.Lock()
	known := u.clientToken
	u.mu.Unlock()
	r, ok := l.call(ctx, api, rec, stepPassword, "", "/api/v1/login", map[string]any{"username": u.name, "password": u.password, "platform": "portal", "client_token": known}, 200)
	if !ok {
		return
	}
	if l.flow == flowPassword {
		rec.add(stepFlow, time.Since(flowStart))
		return
	}
	if r.str("prompt", "kind") != "dscplus" {
		devs, _ := r.body["devices"].([]any)
		id := ""
		for _, d := range devs {
			if m, _ := d.(map[string]any); m["kind"] == "dscplus" {
				id, _ = m["id"].(string)
			}
		}
		if id == "" {
			rec.fail(stepSelect, fmt.Sprintf("no DSC+ offered: %.200s", r.raw))
			return
		}
		if r, ok = l.call(ctx, api, rec, stepSelect, "", "/api/v1/login/device", map[string]any{"login_id": r.str("login_id"), "device_id": id}, 200); !ok {
			return
		}
	}
	response, err := dscplus.Respond(u.cardKey, u.pin, r.str("prompt", "challenge"))
	if err != nil {
		rec.fail(stepAnswer, "answering the challenge: "+err.Error())
		return
	}
	done, ok := l.call(ctx, api, rec, stepAnswer, "", "/api/v1/login/answer", map[string]any{"login_id": r.str("login_id"), "response": response}, 201)
	if !ok {
		return
	}
	if tok := done.str("session", "client_token"); tok != "" {
		u.mu.Lock()
		u.clientToken = tok
		u.mu.Unlock()
	}
	if l.flow == flowLogin {
		rec.add(stepFlow, time.Since(flowStart))
		return
	}
	if _, ok := l.call(ctx, api, rec, stepLogout, done.str("session", "token"), "/api/v1/logout", nil, 204); !ok {
		return
	}
	rec.add(stepFlow, time.Since(flowStart))
}

// call sends one step and records its time, or its failure.
func (l *load) call(ctx context.Context, api *client.Client, rec *recorder, name, token, path string, body any, want int) (step, bool) {
	var rd *bytes.Reader
	contentType := ""
	if body != nil {
		raw, _ := json.Marshal(body)
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	c := *api
	c.Token = token
	t0 := time.Now()
	var resp *client.Response
	var err error
	if rd != nil {
		resp, err = c.Send(ctx, "POST", path, contentType, rd)
	} else {
		resp, err = c.Send(ctx, "POST", path, "", nil)
	}
	took := time.Since(t0)
	if err != nil {
		rec.fail(name, err.Error())
		return step{}, false
	}
	s := step{status: resp.Status, raw: resp.Body}
	_ = json.Unmarshal(resp.Body, &s.body)
	if resp.Status != want {
		code := s.str("error", "code")
		if code == "" {
			code = fmt.Sprint(resp.Status)
		}
		rec.fail(name, fmt.Sprintf("%d %s", resp.Status, code))
		return s, false
	}
	rec.add(name, took)
	return s, true
}
