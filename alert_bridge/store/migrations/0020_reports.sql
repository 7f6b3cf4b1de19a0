-- Daily reports: one claim row per sent (or being sent) report, and the figures of each report
-- for the 7- and 30-day trends.

-- `slot` is the local report date (YYYY-MM-DD) for the day's scheduled (or catch-up) report
-- and NULL for manual sends; its UNIQUE constraint is what makes the scheduled report happen
-- exactly once per local day across restarts and web workers.
CREATE TABLE report_runs (
    id              INTEGER PRIMARY KEY,
    report_date     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('scheduled', 'catch_up', 'manual')),
    slot            TEXT UNIQUE,
    status          TEXT NOT NULL DEFAULT 'claimed' CHECK (status IN ('claimed', 'enqueued', 'failed')),
    claimed_at      REAL NOT NULL,
    claimed_by      TEXT NOT NULL DEFAULT '',
    finished_at     REAL,
    notification_id INTEGER,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_runs_date ON report_runs (report_date);

CREATE TABLE report_history (
    id             INTEGER PRIMARY KEY,
    report_date    TEXT NOT NULL,
    run_id         INTEGER REFERENCES report_runs(id) ON DELETE SET NULL,
    kind           TEXT NOT NULL,
    created_at     REAL NOT NULL,
    window_start   REAL NOT NULL,
    window_end     REAL NOT NULL,
    score          REAL,                 -- NULL: no data at all
    grade          TEXT NOT NULL,
    components     TEXT NOT NULL,        -- JSON {component: points or null}
    hosts          TEXT NOT NULL,        -- JSON per-host summaries
    alert_counts   TEXT NOT NULL,        -- JSON {severity: episodes}
    pnl            REAL                  -- realized P&L of the window, NULL: no trading data
);
CREATE INDEX report_history_date ON report_history (report_date, created_at);
