-- Notification destinations, report templates and schedules, immutable runs, artifacts and the
-- delivery ledger (PRODUCT §5–§9). Instants are epoch ms; JSON is text.
CREATE TABLE destinations (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('slack', 'teams', 'email', 'webhook')),
    name          TEXT NOT NULL,
    enabled       BIGINT NOT NULL DEFAULT 1,
    config        TEXT NOT NULL DEFAULT '{}',
    secret_sealed TEXT,
    deleted_at    BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX destinations_tenant ON destinations(tenant_id);

CREATE TABLE report_templates (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    dashboard              TEXT NOT NULL,
    period                 TEXT NOT NULL,
    segment_id             TEXT,
    params                 TEXT NOT NULL DEFAULT '{}',
    formats                TEXT NOT NULL,
    narrative_enabled      BIGINT NOT NULL DEFAULT 1,
    narrative_prompt       TEXT,
    fallback_destinations  TEXT NOT NULL DEFAULT '[]',
    enabled                BIGINT NOT NULL DEFAULT 1,
    created_by             TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX report_templates_tenant ON report_templates(tenant_id);

CREATE TABLE report_schedules (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    template_id     TEXT NOT NULL REFERENCES report_templates(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    cron            TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    destinations    TEXT NOT NULL DEFAULT '[]',
    enabled         BIGINT NOT NULL DEFAULT 1,
    next_run_at     BIGINT,
    parked_reason   TEXT,
    last_status     TEXT,
    last_run_at     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX report_schedules_due ON report_schedules(enabled, next_run_at);
CREATE INDEX report_schedules_template ON report_schedules(template_id);

CREATE TABLE report_runs (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    template_id    TEXT NOT NULL,
    schedule_id    TEXT,
    trigger        TEXT NOT NULL CHECK (trigger IN ('schedule', 'run_now')),
    triggered_by   TEXT NOT NULL,
    scheduled_for  BIGINT,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'partial', 'failed')),
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
    UNIQUE (schedule_id, scheduled_for)
);
CREATE INDEX report_runs_template ON report_runs(tenant_id, template_id, queued_at);
CREATE INDEX report_runs_lease ON report_runs(status, lease_until);

-- A finished run is immutable: the database refuses any update.
CREATE TRIGGER report_runs_immutable BEFORE UPDATE ON report_runs
WHEN OLD.status IN ('succeeded', 'partial', 'failed')
BEGIN
    SELECT RAISE(ABORT, 'report run is finished and immutable');
END;

CREATE TABLE report_artifacts (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    run_id       TEXT NOT NULL REFERENCES report_runs(id) ON DELETE CASCADE,
    format       TEXT NOT NULL,
    filename     TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BLOB,
    pruned_at    BIGINT,
    created_at   BIGINT NOT NULL,
    UNIQUE (run_id, format)
);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    run_id          TEXT NOT NULL REFERENCES report_runs(id) ON DELETE CASCADE,
    destination_id  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'accepted', 'failed', 'skipped')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    response_id     TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    UNIQUE (run_id, destination_id)
);

CREATE TABLE delivery_attempts (
    id            TEXT PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    number        BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    result        TEXT NOT NULL,
    http_status   BIGINT,
    error         TEXT,
    UNIQUE (delivery_id, number)
);
