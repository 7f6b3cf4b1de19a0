-- The email outbox: every notification is a row first, sent by the OutboxSender afterwards,
-- so a webhook commits its alerts and their emails in one transaction and a crash between the
-- webhook's 2xx and the SMTP send still delivers after restart.
CREATE TABLE IF NOT EXISTS notifications (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN
                        ('firing', 'resolved', 'emergency_repeat', 'test', 'watchdog',
                         'pause_summary', 'report')),
    alert_id        INTEGER NULL,          -- no foreign key: alert retention must not be blocked
    dedup_key       TEXT NULL UNIQUE,      -- enqueue is idempotent on it
    recipients      TEXT NOT NULL DEFAULT '[]',   -- JSON list of addresses
    context         TEXT NOT NULL DEFAULT '{}',   -- JSON, rendered by alert_bridge/notify/templates
    raw             BLOB NULL,             -- a complete RFC 5322 message (the daily report)
    status          TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,   -- delivery attempts started (counted at claim)
    next_attempt_at REAL NOT NULL,
    claimed_until   REAL NULL,             -- lease of the sender that holds a 'sending' row
    last_error      TEXT NULL,
    message_id      TEXT NULL,
    created_at      REAL NOT NULL,
    sent_at         REAL NULL
);

-- claim_due scans pending rows by due time and 'sending' rows by lease expiry.
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS notifications_alert ON notifications (alert_id);
CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_at);
