-- Dashboard sessions known to the server, so logout (and "log out everywhere") revokes a cookie
-- even if a copy of it survives. Only a SHA-256 of the session id is kept.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,
    revoked_at  REAL,
    created_by  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
