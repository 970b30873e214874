-- Issue #16 part 5: e-mail notifications. Each person chooses, per kind of alert,
-- to be told at once, in a daily digest, or not at all (no row: not at all). The
-- watermark is the last alert of that kind already considered, so turning a kind on
-- does not send the past, and a restart does not send anything twice.
CREATE TABLE email_prefs (
    user_id        INTEGER NOT NULL REFERENCES users(id),
    kind           TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation')),
    mode           TEXT NOT NULL CHECK (mode IN ('immediate', 'daily')),
    last_alert_id  INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Messages to send, written in the transaction that moves the watermark: the dedup
-- key (one per alert and person, one digest per person and day) makes a message
-- exist once however often the worker runs; a lease keeps two senders apart.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    dedup_key       TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_user ON outbox(user_id, id);
