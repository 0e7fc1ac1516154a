// Package scheduler runs the system's timed work — auto-activating
// delivered cards, expiring temporary access, purging old statements and
// login records — on every node, while each run of each job happens on
// exactly one node: a node claims a run in the database before doing it.
// Jobs must be idempotent (they act on what is due at the time they run),
// so a run that fails half-way is simply done again at the next period.
package scheduler

import (
	"context"
	"log/slog"
	"time"

	sls "github.com/secure-login-system/sls"
)

// Job is one kind of timed work.
type Job struct {
	Name string
	// Every is the period in the system's time (the Clock): a test that
	// moves the clock by three weeks sees the job run at the next tick.
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) error
}

// Scheduler runs jobs.
type Scheduler struct {
	Store sls.Store
	Clock sls.Clock
	Log   *slog.Logger
	// Tick is how often (in real time) the node looks for due jobs.
	Tick time.Duration
	jobs []Job
}

// Add registers a job. Call before Run.
func (s *Scheduler) Add(j Job) { s.jobs = append(s.jobs, j) }

// Jobs lists the registered jobs.
func (s *Scheduler) Jobs() []Job { return s.jobs }

// Run looks for due jobs every Tick until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	tick := s.Tick
	if tick <= 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		s.RunDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunDue runs, once, every job whose run is due and that this node claims.
// It returns the names of the jobs it ran.
func (s *Scheduler) RunDue(ctx context.Context) []string {
	var ran []string
	// One read finds the jobs that are due; only those are claimed (a
	// write each). A job missing from the schedule has never run.
	var next map[string]time.Time
	if err := s.Store.Read(ctx, func(tx sls.Tx) error {
		var err error
		next, err = tx.JobSchedule(ctx)
		return err
	}); err != nil {
		if ctx.Err() == nil {
			s.log().Error("scheduler: read the schedule", "err", err)
		}
		return nil
	}
	for _, j := range s.jobs {
		now := s.Clock.Now()
		if at, ok := next[j.Name]; ok && now.Before(at) {
			continue
		}
		var claimed bool
		err := s.Store.Update(ctx, func(tx sls.Tx) error {
			var err error
			claimed, err = tx.ClaimJob(ctx, j.Name, now, now.Add(j.Every))
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log().Error("scheduler: claim", "job", j.Name, "err", err)
			}
			continue
		}
		if !claimed {
			continue
		}
		start := time.Now()
		if err := j.Run(ctx, now); err != nil {
			s.log().Error("scheduler: job failed; it runs again next period", "job", j.Name, "err", err)
			continue
		}
		s.log().Debug("scheduler: job ran", "job", j.Name, "ms", time.Since(start).Milliseconds())
		ran = append(ran, j.Name)
	}
	return ran
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}
