-- The decisioning data behind the dashboards: catalogue, raw events and rollups (PRODUCT §2).
-- Raw events carry no id column: they are append-only and only ever read through rollups.
-- Integers are BIGINT (i64 on both databases), fractions DOUBLE PRECISION, flags 0/1 BIGINT.
CREATE TABLE segments (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key TEXT NOT NULL, name TEXT NOT NULL, size BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, key)
);
CREATE TABLE channels (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, key)
);
CREATE TABLE offers (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key TEXT NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'retired')),
    daily_budget_cents BIGINT NOT NULL DEFAULT 0, lifetime_budget_cents BIGINT NOT NULL DEFAULT 0,
    spent_cents BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, key)
);
CREATE TABLE models (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, key)
);
CREATE TABLE experiments (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, started_at BIGINT NOT NULL,
    variants TEXT NOT NULL DEFAULT '[]',
    UNIQUE (tenant_id, key)
);
CREATE TABLE connectors (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    last_sync_at BIGINT,
    UNIQUE (tenant_id, key)
);
CREATE TABLE pipelines (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key TEXT NOT NULL, name TEXT NOT NULL, connector_id TEXT, status TEXT NOT NULL,
    schema_count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, key)
);

CREATE TABLE decisions (
    tenant_id TEXT NOT NULL, ts BIGINT NOT NULL, segment_id TEXT NOT NULL, channel_id TEXT NOT NULL,
    latency_ms DOUBLE PRECISION NOT NULL,
    funnel_initial BIGINT NOT NULL, funnel_qualified BIGINT NOT NULL, funnel_unsuppressed BIGINT NOT NULL,
    funnel_contactable BIGINT NOT NULL, funnel_scored BIGINT NOT NULL,
    degraded BIGINT NOT NULL DEFAULT 0, selected_offer_id TEXT
);
CREATE INDEX decisions_tenant_ts ON decisions(tenant_id, ts);
CREATE TABLE interactions (
    tenant_id TEXT NOT NULL, ts BIGINT NOT NULL, customer_id TEXT NOT NULL, offer_id TEXT NOT NULL,
    channel_id TEXT NOT NULL, segment_id TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('impression', 'click', 'conversion', 'dismiss', 'opt_out', 'complaint')),
    value_cents BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX interactions_tenant_ts ON interactions(tenant_id, ts);
CREATE TABLE model_evaluations (
    tenant_id TEXT NOT NULL, model_id TEXT NOT NULL, day BIGINT NOT NULL,
    auc DOUBLE PRECISION NOT NULL, psi DOUBLE PRECISION NOT NULL, ks DOUBLE PRECISION NOT NULL,
    feature_importance TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, model_id, day)
);
CREATE TABLE pipeline_runs (
    id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, pipeline_id TEXT NOT NULL,
    started_at BIGINT NOT NULL, ended_at BIGINT, status TEXT NOT NULL,
    rows_in BIGINT NOT NULL DEFAULT 0, rows_out BIGINT NOT NULL DEFAULT 0, error TEXT
);
CREATE INDEX pipeline_runs_tenant_started ON pipeline_runs(tenant_id, started_at);
CREATE TABLE flow_runs (
    tenant_id TEXT NOT NULL, ts BIGINT NOT NULL, status TEXT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL
);
CREATE INDEX flow_runs_tenant_ts ON flow_runs(tenant_id, ts);
CREATE TABLE breaker_events (
    tenant_id TEXT NOT NULL, breaker TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('closed', 'half_open', 'open')), ts BIGINT NOT NULL
);
CREATE INDEX breaker_events_tenant_ts ON breaker_events(tenant_id, ts);
CREATE TABLE dlq_samples (tenant_id TEXT NOT NULL, ts BIGINT NOT NULL, depth BIGINT NOT NULL);
CREATE INDEX dlq_samples_tenant_ts ON dlq_samples(tenant_id, ts);
CREATE TABLE touchpoints (
    tenant_id TEXT NOT NULL, customer_id TEXT NOT NULL, channel_id TEXT NOT NULL, offer_id TEXT NOT NULL,
    ts BIGINT NOT NULL
);
CREATE INDEX touchpoints_tenant_customer ON touchpoints(tenant_id, customer_id, ts);

-- Rollups: day = UTC midnight in epoch ms. Maintained by every load (demo, ingest, import).
CREATE TABLE rollup_interactions_daily (
    tenant_id TEXT NOT NULL, day BIGINT NOT NULL, offer_id TEXT NOT NULL, channel_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    impressions BIGINT NOT NULL DEFAULT 0, clicks BIGINT NOT NULL DEFAULT 0,
    conversions BIGINT NOT NULL DEFAULT 0, dismissals BIGINT NOT NULL DEFAULT 0,
    opt_outs BIGINT NOT NULL DEFAULT 0, complaints BIGINT NOT NULL DEFAULT 0,
    revenue_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, offer_id, channel_id, segment_id)
);
CREATE TABLE rollup_decisions_daily (
    tenant_id TEXT NOT NULL, day BIGINT NOT NULL, segment_id TEXT NOT NULL, channel_id TEXT NOT NULL,
    decisions BIGINT NOT NULL DEFAULT 0, latency_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    funnel_initial BIGINT NOT NULL DEFAULT 0, funnel_qualified BIGINT NOT NULL DEFAULT 0,
    funnel_unsuppressed BIGINT NOT NULL DEFAULT 0, funnel_contactable BIGINT NOT NULL DEFAULT 0,
    funnel_scored BIGINT NOT NULL DEFAULT 0, degraded BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, segment_id, channel_id)
);
-- Latency histogram per day: mergeable, so percentiles over any period stay exact to a bucket.
CREATE TABLE rollup_latency_daily (
    tenant_id TEXT NOT NULL, day BIGINT NOT NULL, bucket BIGINT NOT NULL, count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, bucket)
);
-- Attribution credit per conversion day, model, channel and offer (credits of one conversion sum to its value).
CREATE TABLE rollup_attribution_daily (
    tenant_id TEXT NOT NULL, day BIGINT NOT NULL, model TEXT NOT NULL, channel_id TEXT NOT NULL,
    offer_id TEXT NOT NULL, segment_id TEXT NOT NULL,
    touchpoints BIGINT NOT NULL DEFAULT 0, credit DOUBLE PRECISION NOT NULL DEFAULT 0,
    credited_value_cents DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, model, channel_id, offer_id, segment_id)
);
-- How often decisions selected each offer, per day and segment (Business: selection frequency).
CREATE TABLE rollup_selection_daily (
    tenant_id TEXT NOT NULL, day BIGINT NOT NULL, segment_id TEXT NOT NULL, offer_id TEXT NOT NULL,
    selections BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, segment_id, offer_id)
);
