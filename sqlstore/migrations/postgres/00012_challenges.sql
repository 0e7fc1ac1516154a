-- +goose Up
-- step_ups holds every challenge asked of a user inside a live session
-- (one challenge primitive, package verify): a withdrawal confirmation
-- (purpose 'withdrawal', bound to its amount) and a session step-up
-- (purpose 'step_up', bound to its session). Rows written before this
-- migration are withdrawal confirmations.
ALTER TABLE step_ups ADD COLUMN purpose TEXT NOT NULL DEFAULT 'withdrawal';
ALTER TABLE step_ups ADD COLUMN platform TEXT NOT NULL DEFAULT '';
ALTER TABLE step_ups ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE step_ups ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE step_ups ADD COLUMN order_id TEXT NOT NULL DEFAULT '';
-- A new step-up of a session supersedes the one pending (SupersedeStepUps).
CREATE INDEX step_ups_session ON step_ups(session_id, purpose);

-- +goose Down
DROP INDEX step_ups_session;
ALTER TABLE step_ups DROP COLUMN order_id;
ALTER TABLE step_ups DROP COLUMN user_agent;
ALTER TABLE step_ups DROP COLUMN client_ip;
ALTER TABLE step_ups DROP COLUMN platform;
ALTER TABLE step_ups DROP COLUMN purpose;
