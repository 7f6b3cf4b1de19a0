-- Bridge core: alerts, their history, webhook receipts (idempotency), acks, pauses,
-- scheduled-job runs, leader leases and small key/value state.

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    fingerprint      TEXT NOT NULL,
    starts_at        TEXT NOT NULL,          -- ISO 8601 UTC, normalised
    starts_at_epoch  REAL NOT NULL,
    alertname        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    severity         TEXT NOT NULL,          -- effective severity (critical when assumed)
    severity_assumed INTEGER NOT NULL DEFAULT 0,
    category         TEXT NOT NULL DEFAULT '',
    instance         TEXT NOT NULL DEFAULT '',
    labels           TEXT NOT NULL,          -- JSON object
    annotations      TEXT NOT NULL,          -- JSON object
    ends_at          TEXT,                   -- ISO 8601 UTC, NULL while firing open-ended
    generator_url    TEXT NOT NULL DEFAULT '',
    raw              TEXT NOT NULL,          -- the alert's JSON exactly as received last
    payload_id       INTEGER REFERENCES webhook_payloads(id) ON DELETE SET NULL,
    first_seen       REAL NOT NULL,
    last_seen        REAL NOT NULL,
    resolved_at      REAL,
    acked_at         REAL,
    last_notified_at REAL,
    notify_count     INTEGER NOT NULL DEFAULT 0,
    held_at          REAL,                   -- held by a pause, waiting for its summary
    UNIQUE (fingerprint, starts_at)
);
CREATE INDEX alerts_status ON alerts (status, severity);
CREATE INDEX alerts_last_seen ON alerts (last_seen);

-- The whole webhook body, kept once for every payload that brought something new.
CREATE TABLE webhook_payloads (
    id          INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    receiver    TEXT NOT NULL,
    group_key   TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL
);
CREATE INDEX webhook_payloads_received ON webhook_payloads (received_at);

-- firing -> resolved transitions (and the first firing), in order.
CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    status   TEXT NOT NULL,
    at       REAL NOT NULL,
    ends_at  TEXT
);
CREATE INDEX alert_events_alert ON alert_events (alert_id);

-- Idempotency: one row per (fingerprint, startsAt, status) ever accepted.
CREATE TABLE receipts (
    fingerprint TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    status      TEXT NOT NULL,
    first_at    REAL NOT NULL,
    PRIMARY KEY (fingerprint, starts_at, status)
) WITHOUT ROWID;

CREATE TABLE acks (
    id       INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    at       REAL NOT NULL,
    by       TEXT NOT NULL DEFAULT '',
    comment  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE pauses (
    id                  INTEGER PRIMARY KEY,
    started_at          REAL NOT NULL,
    until               REAL NOT NULL,
    ended_at            REAL,
    comment             TEXT NOT NULL DEFAULT '',
    include_emergencies INTEGER NOT NULL DEFAULT 0,
    silence_id          TEXT,
    silence_error       TEXT,
    created_by          TEXT NOT NULL DEFAULT ''
);

CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    started_at  REAL NOT NULL,
    finished_at REAL,
    ok          INTEGER,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_runs_job ON job_runs (job, started_at);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at REAL NOT NULL,
    expires_at  REAL NOT NULL
);

CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
