-- Push channels share the email outbox: one row per notification and channel, `channel` naming
-- the config's `channels[].name` (NULL: the email). Same leases, retries and dedup keys.
ALTER TABLE notifications ADD COLUMN channel TEXT NULL;
CREATE INDEX IF NOT EXISTS notifications_channel ON notifications (channel, status);
