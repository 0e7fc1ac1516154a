package sls

import (
	"context"
	"time"
)

// SchedulerStore lets several nodes share timed jobs: a job's next run is
// claimed by exactly one node.
type SchedulerStore interface {
	// ClaimJob claims the run of job name that is due at now: it succeeds
	// (true) for exactly one caller when the job's next run time is at or
	// before now (or the job has never run), and moves the next run to
	// next.
	ClaimJob(ctx context.Context, name string, now, next time.Time) (bool, error)
	// JobSchedule returns every job's next run time (a read): a node
	// claims only the jobs that are due, instead of writing once per job
	// at every tick.
	JobSchedule(ctx context.Context) (map[string]time.Time, error)
}
