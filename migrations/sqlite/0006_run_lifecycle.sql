-- The run lifecycle (issue 11): runs and re-sends are owned by the process that created them and
-- leased while queued or running; deliveries gain `sending` (a send in flight) and `unknown`
-- (the process died while sending); every attempt is written as it happens; a re-send is a new
-- row with its own attempts; artifacts and deliveries of a finished run are immutable like the
-- run itself (only retention may drop an artifact's bytes).

ALTER TABLE report_runs ADD COLUMN owner TEXT;
ALTER TABLE report_runs ADD COLUMN generated_at TEXT;
CREATE INDEX report_runs_owner ON report_runs(owner, status);
-- Earlier versions let several Run Now runs of one template be in flight; any still queued or
-- running (their server died) are finished, all but the newest, before the index below exists.
UPDATE deliveries SET status = 'failed', last_error = 'not sent: superseded by a newer Run Now when upgrading'
WHERE status = 'pending' AND run_id IN (
    SELECT r.id FROM report_runs r WHERE r.trigger = 'run_now' AND r.status IN ('queued', 'running') AND EXISTS (
        SELECT 1 FROM report_runs n WHERE n.template_id = r.template_id AND n.trigger = 'run_now'
          AND n.status IN ('queued', 'running') AND (n.queued_at > r.queued_at OR (n.queued_at = r.queued_at AND n.id > r.id))));
UPDATE report_runs SET status = 'failed', phase = 'finished', lease_until = NULL, finished_at = queued_at,
    error = 'abandoned: superseded by a newer Run Now of the same report when upgrading'
WHERE trigger = 'run_now' AND status IN ('queued', 'running') AND EXISTS (
    SELECT 1 FROM report_runs n WHERE n.template_id = report_runs.template_id AND n.trigger = 'run_now'
      AND n.status IN ('queued', 'running')
      AND (n.queued_at > report_runs.queued_at OR (n.queued_at = report_runs.queued_at AND n.id > report_runs.id)));
-- At most one Run Now of a template queued or running at a time (PRODUCT §13: 409).
CREATE UNIQUE INDEX report_runs_one_run_now ON report_runs(template_id)
    WHERE trigger = 'run_now' AND status IN ('queued', 'running');

ALTER TABLE report_schedules ADD COLUMN last_error TEXT;
ALTER TABLE report_schedules ADD COLUMN last_error_at BIGINT;

-- SQLite cannot change a CHECK constraint: rebuild deliveries and their attempts.
CREATE TABLE deliveries_next (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    run_id          TEXT NOT NULL REFERENCES report_runs(id) ON DELETE CASCADE,
    destination_id  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'accepted', 'failed', 'unknown', 'skipped')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    response_id     TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    UNIQUE (run_id, destination_id)
);
-- Earlier versions left `pending` rows inside finished runs when the server died while sending:
-- their outcome is unknown.
INSERT INTO deliveries_next (id, tenant_id, run_id, destination_id, kind, name, status, attempts, last_error, response_id, created_at, updated_at, finished_at)
    SELECT d.id, d.tenant_id, d.run_id, d.destination_id, d.kind, d.name,
           CASE WHEN d.status = 'pending' AND r.status IN ('succeeded', 'partial', 'failed') THEN 'unknown' ELSE d.status END,
           d.attempts,
           CASE WHEN d.status = 'pending' AND r.status IN ('succeeded', 'partial', 'failed')
                THEN 'outcome unknown: the server stopped while it was being sent' ELSE d.last_error END,
           d.response_id, d.created_at, d.updated_at, d.finished_at
    FROM deliveries d LEFT JOIN report_runs r ON r.id = d.run_id;

CREATE TABLE delivery_resends (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    delivery_id   TEXT NOT NULL REFERENCES deliveries_next(id) ON DELETE CASCADE,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'accepted', 'failed', 'unknown')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    response_id   TEXT,
    owner         TEXT,
    lease_until   BIGINT,
    finished_at   BIGINT
);
CREATE INDEX delivery_resends_delivery ON delivery_resends(delivery_id, requested_at);
CREATE UNIQUE INDEX delivery_resends_one_active ON delivery_resends(delivery_id) WHERE status IN ('pending', 'sending');

CREATE TABLE delivery_attempts_next (
    id            TEXT PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES deliveries_next(id) ON DELETE CASCADE,
    resend_id     TEXT REFERENCES delivery_resends(id) ON DELETE CASCADE,
    number        BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    result        TEXT NOT NULL,
    http_status   BIGINT,
    error         TEXT,
    UNIQUE (delivery_id, number)
);
INSERT INTO delivery_attempts_next (id, delivery_id, resend_id, number, at, result, http_status, error)
    SELECT id, delivery_id, NULL, number, at, result, http_status, error FROM delivery_attempts;

DROP TABLE delivery_attempts;
DROP TABLE deliveries;
ALTER TABLE deliveries_next RENAME TO deliveries;
ALTER TABLE delivery_attempts_next RENAME TO delivery_attempts;
CREATE INDEX deliveries_status ON deliveries(status);

-- A finished run's deliveries change only through a re-send (new rows), never by update.
CREATE TRIGGER deliveries_immutable BEFORE UPDATE ON deliveries
WHEN (SELECT status FROM report_runs WHERE id = OLD.run_id) IN ('succeeded', 'partial', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'the deliveries of a finished run are immutable (a re-send adds a new attempt)');
END;
CREATE TRIGGER deliveries_closed BEFORE INSERT ON deliveries
WHEN (SELECT status FROM report_runs WHERE id = NEW.run_id) IN ('succeeded', 'partial', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'a finished run takes no new deliveries');
END;
CREATE TRIGGER delivery_attempts_append_only BEFORE UPDATE ON delivery_attempts
BEGIN
    SELECT RAISE(ABORT, 'delivery attempts are append-only');
END;
CREATE TRIGGER delivery_attempts_closed BEFORE INSERT ON delivery_attempts
WHEN NEW.resend_id IS NULL AND (SELECT r.status FROM deliveries d JOIN report_runs r ON r.id = d.run_id WHERE d.id = NEW.delivery_id) IN ('succeeded', 'partial', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'a finished run takes new attempts only through a re-send');
END;
CREATE TRIGGER delivery_resends_final BEFORE UPDATE ON delivery_resends
WHEN OLD.status IN ('delivered', 'accepted', 'failed', 'unknown')
BEGIN
    SELECT RAISE(ABORT, 'a finished re-send is immutable');
END;

-- Artifacts of a finished run: retention may drop the bytes (and only the bytes), nothing else.
CREATE TRIGGER report_artifacts_immutable BEFORE UPDATE ON report_artifacts
WHEN (SELECT status FROM report_runs WHERE id = OLD.run_id) IN ('succeeded', 'partial', 'failed')
 AND NOT (NEW.bytes IS NULL AND NEW.pruned_at IS NOT NULL AND OLD.pruned_at IS NULL
          AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.run_id = OLD.run_id
          AND NEW.format = OLD.format AND NEW.filename = OLD.filename AND NEW.media_type = OLD.media_type
          AND NEW.size_bytes = OLD.size_bytes AND NEW.sha256 = OLD.sha256 AND NEW.created_at = OLD.created_at)
BEGIN
    SELECT RAISE(ABORT, 'the artifacts of a finished run are immutable (retention may only prune their bytes)');
END;
CREATE TRIGGER report_artifacts_closed BEFORE INSERT ON report_artifacts
WHEN (SELECT status FROM report_runs WHERE id = NEW.run_id) IN ('succeeded', 'partial', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'a finished run takes no new artifacts');
END;
