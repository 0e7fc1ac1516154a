-- +goose Up
-- Timed jobs shared by every node: a node runs a job only after claiming
-- its next run here, so each run happens once.
CREATE TABLE job_schedule (
    name        TEXT PRIMARY KEY,
    next_run_at BIGINT NOT NULL,
    last_run_at BIGINT
);

-- +goose Down
DROP TABLE job_schedule;
