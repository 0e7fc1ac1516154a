package ibkey

import (
	"context"
	"log/slog"
	"sync"
	"time"

	sls "github.com/secure-login-system/sls"
)

// Hub tells the waiters of this node — app connections and login pages —
// that a user's pushes changed. Changes made on this node poke it
// directly; changes made on other nodes are found by polling the pushes'
// UpdatedAt in the database every PollInterval. Polling (rather than
// PostgreSQL LISTEN/NOTIFY) works the same on both engines and costs one
// indexed range query per node per interval, whatever the number of
// connections.
type Hub struct {
	store    sls.Store
	clock    sls.Clock
	interval time.Duration
	log      *slog.Logger

	mu   sync.Mutex
	subs map[string]map[*sub]struct{} // user id → waiters
	seen map[string]seenPush          // push id → last change seen
}

type seenPush struct {
	updated time.Time
	state   string
}

// sub is one waiter: a one-shot channel (Subscribe) or a callback called
// at every change (Watch).
type sub struct {
	ch    chan struct{}
	once  sync.Once
	fn    func()
	users []string
}

func (s *sub) fire() {
	if s.fn != nil {
		s.fn()
		return
	}
	s.once.Do(func() { close(s.ch) })
}

// overlap is how far back each poll looks before the newest change seen:
// a transaction stamps UpdatedAt before it commits, so a change may
// become visible a little after newer ones. Seen changes are skipped.
const overlap = 3 * time.Second

func newHub(store sls.Store, clock sls.Clock, interval time.Duration, log *slog.Logger) *Hub {
	return &Hub{store: store, clock: clock, interval: interval, log: log,
		subs: map[string]map[*sub]struct{}{}, seen: map[string]seenPush{}}
}

// Subscribe returns a channel closed at the next change of any of the
// users' pushes; cancel releases it.
func (h *Hub) Subscribe(userIDs ...string) (<-chan struct{}, func()) {
	s := &sub{ch: make(chan struct{}), users: userIDs}
	return s.ch, h.add(s)
}

// Watch calls fn at every change of any of the topics until cancel is
// called. fn runs with the hub locked: it must only take note and return
// (an app connection schedules a re-read), never block.
func (h *Hub) Watch(fn func(), topics ...string) (cancel func()) {
	return h.add(&sub{fn: fn, users: topics})
}

// add registers s under its topics and returns what releases it.
func (h *Hub) add(s *sub) func() {
	userIDs := s.users
	h.mu.Lock()
	for _, u := range userIDs {
		m := h.subs[u]
		if m == nil {
			m = map[*sub]struct{}{}
			h.subs[u] = m
		}
		m[s] = struct{}{}
	}
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		for _, u := range s.users {
			if m := h.subs[u]; m != nil {
				delete(m, s)
				if len(m) == 0 {
					delete(h.subs, u)
				}
			}
		}
		h.mu.Unlock()
	}
}

// Subscribe1 is Subscribe for one user (the login.Wake signature).
func (h *Hub) Subscribe1(userID string) (<-chan struct{}, func()) { return h.Subscribe(userID) }

// Poke wakes the waiters of the users (or other topics) now, each once
// however many of the topics it waits on: an app connection waits on its
// instance and each of its users, and a second wake would cost it a
// second read.
func (h *Hub) Poke(userIDs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(userIDs) == 1 {
		for s := range h.subs[userIDs[0]] {
			s.fire()
		}
		return
	}
	fired := map[*sub]bool{}
	for _, u := range userIDs {
		for s := range h.subs[u] {
			if !fired[s] {
				fired[s] = true
				s.fire()
			}
		}
	}
}

// announce wakes the waiters of a push this node changed, once its
// transaction committed, and notes the change as seen: the next database
// poll, which finds it too, need not wake them (and every app connection
// of the user) again.
func (h *Hub) announce(p *sls.IBKeyPush) {
	h.mu.Lock()
	// As the poll will read it back: stored in microseconds.
	h.seen[p.ID] = seenPush{updated: p.UpdatedAt.Truncate(time.Microsecond), state: p.State}
	h.mu.Unlock()
	h.Poke(p.UserID)
}

// Waiters is the number of waiting subscriptions (for metrics and tests).
func (h *Hub) Waiters() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}

func (h *Hub) run(ctx context.Context) {
	cursor := h.clock.Now().Add(-overlap)
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cursor = h.poll(ctx, cursor)
	}
}

// poll reads the pushes changed since cursor-overlap and pokes their users.
func (h *Hub) poll(ctx context.Context, cursor time.Time) time.Time {
	var changed []*sls.IBKeyPush
	err := h.store.View(ctx, func(tx sls.Tx) error {
		var err error
		changed, err = tx.IBKeyPushesUpdatedSince(ctx, cursor.Add(-overlap), 5000)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("ibkey: polling pushes", "err", err)
		}
		return cursor
	}
	if len(changed) == 5000 {
		h.log.Warn("ibkey: more than 5000 push changes within the poll window")
	}
	var users []string
	h.mu.Lock()
	for _, p := range changed {
		if p.UpdatedAt.After(cursor) {
			cursor = p.UpdatedAt
		}
		if s, ok := h.seen[p.ID]; ok && s.updated.Equal(p.UpdatedAt) && s.state == p.State {
			continue
		}
		h.seen[p.ID] = seenPush{updated: p.UpdatedAt, state: p.State}
		users = append(users, p.UserID)
	}
	for id, s := range h.seen {
		if s.updated.Before(cursor.Add(-2 * overlap)) {
			delete(h.seen, id)
		}
	}
	h.mu.Unlock()
	if len(users) == 0 {
		return cursor
	}
	// Also wake the connections of the instances holding those users: a
	// connection on this node may not know yet of a user added to its
	// instance on another node.
	topics := append([]string(nil), users...)
	_ = h.store.View(ctx, func(tx sls.Tx) error {
		done := map[string]bool{}
		for _, u := range users {
			if done[u] {
				continue
			}
			done[u] = true
			devs, err := tx.Devices(ctx, u)
			if err != nil {
				return err
			}
			for _, d := range devs {
				if d.Kind == sls.KindIBKey && d.State == sls.StateActive {
					topics = append(topics, instanceTopic(d.Serial))
				}
			}
		}
		return nil
	})
	h.Poke(topics...)
	return cursor
}
