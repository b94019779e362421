-- A tenant's AI provider for narratives. Secrets are sealed with AES-256-GCM (NARRATE_SECRET_KEY).
CREATE TABLE ai_providers (
    tenant_id       TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    provider        TEXT NOT NULL CHECK (provider IN ('builtin', 'openai', 'anthropic', 'gemini', 'bedrock')),
    model           TEXT,
    base_url        TEXT,
    region          TEXT,
    api_key_sealed  TEXT,
    secret_sealed   TEXT,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL
);
