package server

import (
	"context"
	"errors"
	"time"

	"github.com/secure-login-system/sls/sqlstore"
)

// Audit entries are queued by the transaction that records what they
// say (sqlstore AppendAudit) and linked into the hash chain after commit
// by chainAudit, so that no request waits for the chain's single head
// row. Every node runs a chainer; the head row's lock elects one at a
// time (the others skip, sqlstore.ErrChainBusy), and each links every
// entry queued so far, of any node, in batches.
const (
	// auditChainEvery is how often a node looks for entries queued by
	// nodes whose chainer was busy or stopped; its own commits wake it.
	auditChainEvery = time.Second
	// auditChainRetry is the pause before trying again when another
	// node held the head: it may have read the queue before this node's
	// entries were committed.
	auditChainRetry = 5 * time.Millisecond
	// auditChainGather is how long a woken chainer lets entries gather
	// before it links them: under load one chaining transaction then
	// links the entries of many requests. Readers of the trail do not
	// wait for it (they chain first).
	auditChainGather = 50 * time.Millisecond
)

// chainAudit runs until ctx ends.
func (s *Server) chainAudit(ctx context.Context) {
	tick := time.NewTicker(auditChainEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Store.AuditPending():
			select {
			case <-ctx.Done():
				return
			case <-time.After(auditChainGather):
			}
		case <-tick.C:
		}
		for attempt := 0; attempt < 3; attempt++ {
			_, err := s.Store.ChainAudit(ctx, false)
			if !errors.Is(err, sqlstore.ErrChainBusy) {
				if err != nil && ctx.Err() == nil {
					s.Log.Error("audit chain", "err", err)
				}
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(auditChainRetry):
			}
		}
	}
}
