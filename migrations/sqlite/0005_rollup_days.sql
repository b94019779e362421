-- One row per tenant and day with rollup data; `version` grows with every write to that day's
-- rollups (same transaction), so the dashboards' per-day cache knows which days to re-read.
CREATE TABLE rollup_days (
    tenant_id TEXT NOT NULL,
    day       BIGINT NOT NULL,
    version   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;
INSERT INTO rollup_days (tenant_id, day, version)
SELECT tenant_id, day, 1 FROM (
    SELECT tenant_id, day FROM rollup_interactions_daily
    UNION SELECT tenant_id, day FROM rollup_decisions_daily
    UNION SELECT tenant_id, day FROM rollup_latency_daily
    UNION SELECT tenant_id, day FROM rollup_selection_daily
    UNION SELECT tenant_id, day FROM rollup_attribution_daily
) AS touched;
