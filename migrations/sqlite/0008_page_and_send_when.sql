-- no-transaction
-- Templates gain a page setup and a send condition (issue 16); a run whose condition did not
-- hold finishes as `skipped`, with its reason in `error`, and is as immutable as any finished run.
--
-- SQLite cannot change a CHECK constraint, so `report_runs` is rebuilt. Deliveries, attempts and
-- artifacts reference it with ON DELETE CASCADE: dropping it with foreign keys on would delete
-- them all. The pragma only takes effect outside a transaction, hence `no-transaction` above and
-- an explicit one below (all of it or none). The table is copied aside and back rather than
-- renamed, so no reference to it in another table or trigger is rewritten.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

ALTER TABLE report_templates ADD COLUMN page TEXT NOT NULL DEFAULT '{}';
ALTER TABLE report_templates ADD COLUMN send_when TEXT NOT NULL DEFAULT '{}';

CREATE TABLE report_runs_aside AS SELECT * FROM report_runs;
DROP TABLE report_runs;
CREATE TABLE report_runs (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    template_id    TEXT NOT NULL,
    schedule_id    TEXT,
    trigger        TEXT NOT NULL CHECK (trigger IN ('schedule', 'run_now')),
    triggered_by   TEXT NOT NULL,
    scheduled_for  BIGINT,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed', 'skipped')),
    phase          TEXT NOT NULL DEFAULT 'queued',
    inputs         TEXT NOT NULL DEFAULT '{}',
    narrative      TEXT,
    sections       TEXT,
    error          TEXT,
    queued_at      BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    duration_ms    BIGINT,
    lease_until    BIGINT,
    owner          TEXT,
    generated_at   TEXT,
    UNIQUE (schedule_id, scheduled_for)
);
INSERT INTO report_runs (id, tenant_id, template_id, schedule_id, trigger, triggered_by, scheduled_for, status, phase,
    inputs, narrative, sections, error, queued_at, started_at, finished_at, duration_ms, lease_until, owner, generated_at)
SELECT id, tenant_id, template_id, schedule_id, trigger, triggered_by, scheduled_for, status, phase,
    inputs, narrative, sections, error, queued_at, started_at, finished_at, duration_ms, lease_until, owner, generated_at
FROM report_runs_aside;
DROP TABLE report_runs_aside;

CREATE INDEX report_runs_template ON report_runs(tenant_id, template_id, queued_at);
CREATE INDEX report_runs_lease ON report_runs(status, lease_until);
CREATE INDEX report_runs_owner ON report_runs(owner, status);
CREATE UNIQUE INDEX report_runs_one_run_now ON report_runs(template_id)
    WHERE trigger = 'run_now' AND status IN ('queued', 'running');
CREATE TRIGGER report_runs_immutable BEFORE UPDATE ON report_runs
WHEN OLD.status IN ('succeeded', 'partial', 'failed', 'skipped')
BEGIN
    SELECT RAISE(ABORT, 'report run is finished and immutable');
END;

COMMIT;
PRAGMA foreign_keys = ON;
