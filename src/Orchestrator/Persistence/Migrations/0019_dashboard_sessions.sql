-- Dashboard sign-ins live in the database, so a restart or a standby taking over does not sign anyone out.
-- Only SHA-256 hashes are kept: of the session id (the cookie's value) and of the API key that signed in.
CREATE TABLE dashboard_sessions (
    id_hash  bytea PRIMARY KEY,
    key_hash bytea NOT NULL,
    ends_at  timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_ends_at ON dashboard_sessions (ends_at);
