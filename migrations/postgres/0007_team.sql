-- Team and access (issue 12): users get a display name, a disabled flag and their last sign-in;
-- API keys record who created them and may expire; sessions get a public id (never the token
-- hash), when they were last seen and the browser that opened them, so people can see and end them.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
ALTER TABLE api_keys ADD COLUMN created_by TEXT NOT NULL DEFAULT 'cli';
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
CREATE INDEX sessions_expires ON sessions(expires_at);
