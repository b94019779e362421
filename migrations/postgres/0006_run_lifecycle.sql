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

ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sending', 'delivered', 'accepted', 'failed', 'unknown', 'skipped'));
CREATE INDEX deliveries_status ON deliveries(status);
-- Earlier versions left `pending` rows inside finished runs when the server died while sending:
-- their outcome is unknown.
UPDATE deliveries SET status = 'unknown', last_error = 'outcome unknown: the server stopped while it was being sent'
WHERE status = 'pending' AND run_id IN (SELECT id FROM report_runs WHERE status IN ('succeeded', 'partial', 'failed'));

CREATE TABLE delivery_resends (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    delivery_id   TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
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

ALTER TABLE delivery_attempts ADD COLUMN resend_id TEXT REFERENCES delivery_resends(id) ON DELETE CASCADE;

-- A finished run's deliveries change only through a re-send (new rows), never by update.
CREATE FUNCTION run_is_finished(run TEXT) RETURNS BOOLEAN AS $$
    SELECT COALESCE((SELECT status IN ('succeeded', 'partial', 'failed') FROM report_runs WHERE id = run), FALSE);
$$ LANGUAGE sql STABLE;

CREATE FUNCTION deliveries_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND run_is_finished(OLD.run_id) THEN
        RAISE EXCEPTION 'the deliveries of a finished run are immutable (a re-send adds a new attempt)';
    END IF;
    IF TG_OP = 'INSERT' AND run_is_finished(NEW.run_id) THEN
        RAISE EXCEPTION 'a finished run takes no new deliveries';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER deliveries_immutable BEFORE INSERT OR UPDATE ON deliveries
FOR EACH ROW EXECUTE FUNCTION deliveries_immutable();

CREATE FUNCTION delivery_attempts_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'delivery attempts are append-only';
    END IF;
    IF NEW.resend_id IS NULL AND run_is_finished((SELECT run_id FROM deliveries WHERE id = NEW.delivery_id)) THEN
        RAISE EXCEPTION 'a finished run takes new attempts only through a re-send';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER delivery_attempts_immutable BEFORE INSERT OR UPDATE ON delivery_attempts
FOR EACH ROW EXECUTE FUNCTION delivery_attempts_immutable();

CREATE FUNCTION delivery_resends_final() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('delivered', 'accepted', 'failed', 'unknown') THEN
        RAISE EXCEPTION 'a finished re-send is immutable';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER delivery_resends_final BEFORE UPDATE ON delivery_resends
FOR EACH ROW EXECUTE FUNCTION delivery_resends_final();

-- Artifacts of a finished run: retention may drop the bytes (and only the bytes), nothing else.
CREATE FUNCTION report_artifacts_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF run_is_finished(NEW.run_id) THEN
            RAISE EXCEPTION 'a finished run takes no new artifacts';
        END IF;
        RETURN NEW;
    END IF;
    IF run_is_finished(OLD.run_id) AND NOT (
        NEW.bytes IS NULL AND NEW.pruned_at IS NOT NULL AND OLD.pruned_at IS NULL
        AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.run_id = OLD.run_id
        AND NEW.format = OLD.format AND NEW.filename = OLD.filename AND NEW.media_type = OLD.media_type
        AND NEW.size_bytes = OLD.size_bytes AND NEW.sha256 = OLD.sha256 AND NEW.created_at = OLD.created_at
    ) THEN
        RAISE EXCEPTION 'the artifacts of a finished run are immutable (retention may only prune their bytes)';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER report_artifacts_immutable BEFORE INSERT OR UPDATE ON report_artifacts
FOR EACH ROW EXECUTE FUNCTION report_artifacts_immutable();
