-- Legal-aid cases and their events. The person is sealed (one ciphertext per version);
-- plain fields are what counts and deadlines are computed from. Events are never
-- deleted: a mistaken one is voided with a reason.

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    version         INTEGER NOT NULL,
    reference       TEXT NOT NULL,
    facility_id     INTEGER REFERENCES facilities(id),
    lawyer_user_id  INTEGER REFERENCES users(id),
    nationality     TEXT,
    sex             TEXT NOT NULL,
    age_group       TEXT NOT NULL,
    minor           INTEGER NOT NULL CHECK (minor IN (0, 1)),
    languages       TEXT NOT NULL,
    vulnerabilities TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    person_sealed   BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (org_id, reference)
);
CREATE INDEX cases_org ON cases(org_id, status);

CREATE TABLE case_events (
    id             INTEGER PRIMARY KEY,
    case_id        INTEGER NOT NULL REFERENCES cases(id),
    org_id         INTEGER NOT NULL REFERENCES organizations(id),
    kind           TEXT NOT NULL,
    occurred_on    TEXT NOT NULL,
    occurred_time  TEXT,
    facility_id    INTEGER REFERENCES facilities(id),
    ground         TEXT,
    decision       TEXT,
    note_sealed    BLOB,
    voided_at      INTEGER,
    void_reason    TEXT,
    author_user_id INTEGER REFERENCES users(id),
    created_at     INTEGER NOT NULL
);
CREATE INDEX case_events_case ON case_events(case_id, id);

-- Alerts gain deadline reminders and violations. SQLite cannot change a CHECK in
-- place: the table (and deliveries, which reference it) are rebuilt.
CREATE TABLE alerts_new (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    kind        TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation')),
    dedup_key   TEXT NOT NULL,
    attempt_id  INTEGER,
    payload     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    read_at     INTEGER,
    UNIQUE (org_id, dedup_key)
);
INSERT INTO alerts_new SELECT id, org_id, kind, dedup_key, attempt_id, payload, created_at, read_at FROM alerts;
CREATE TABLE deliveries_new (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id),
    alert_id        INTEGER NOT NULL REFERENCES alerts_new(id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
INSERT INTO deliveries_new SELECT id, webhook_id, alert_id, status, attempts, next_attempt_at, locked_until,
    last_status, last_error, created_at, delivered_at FROM deliveries;
DROP TABLE deliveries;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX alerts_org ON alerts(org_id, id);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);
