-- Issue #20 part 3: retention and crypto-shredding.
-- Each case's personal data (the person, event notes and reasons, documents) is sealed
-- with the case's own data key, kept here only wrapped by the organization's data key
-- and never copied into the history (which records the wrapped key's hash). Erasing
-- the case's personal data empties key_sealed: every copy of those values, in the
-- history, the write-ahead log or a later backup, then opens with no key Vigía holds.
CREATE TABLE case_keys (
    case_id     INTEGER PRIMARY KEY REFERENCES cases(id),
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    key_sealed  BLOB,
    created_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    erased_by   INTEGER REFERENCES users(id),
    reason      TEXT CHECK (reason IN ('retention', 'person_request')),
    -- The confirmer stated that a recorded appeal or amparo had ended.
    litigation_ended BOOLEAN,
    -- Some of the case's values were sealed before cases had their own key: the
    -- history keeps those under the organization's key, out of the erasure's reach.
    partial     BOOLEAN,
    CHECK ((key_sealed IS NULL) = (erased_at IS NOT NULL)),
    CHECK ((erased_at IS NULL) = (reason IS NULL)),
    CHECK ((erased_at IS NULL) = (litigation_ended IS NULL)),
    CHECK ((erased_at IS NULL) = (partial IS NULL))
);
CREATE INDEX case_keys_org ON case_keys (org_id, case_id);

-- One rule per organization: personal data is erased this many months after its case
-- was closed, unless (when hold_while_litigating) a recorded appeal or amparo holds it.
CREATE TABLE retention_rules (
    org_id                 INTEGER PRIMARY KEY REFERENCES organizations(id),
    months_after_close     INTEGER NOT NULL CHECK (months_after_close BETWEEN 1 AND 1200),
    hold_while_litigating  BOOLEAN NOT NULL,
    updated_by             INTEGER REFERENCES users(id),
    updated_at             INTEGER NOT NULL
);

-- Cases due for erasure are a new kind of alert (and of e-mail choice), read by the
-- roles that may erase. SQLite cannot change a CHECK in place: alerts (and deliveries,
-- which reference it) and e-mail choices are rebuilt, as 0027 did.
CREATE TABLE alerts_new (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    kind        TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics', 'request', 'retention')),
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

CREATE TABLE email_prefs_new (
    user_id        INTEGER NOT NULL REFERENCES users(id),
    kind           TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics', 'request', 'retention')),
    mode           TEXT NOT NULL CHECK (mode IN ('immediate', 'daily')),
    last_alert_id  INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);
INSERT INTO email_prefs_new SELECT user_id, kind, mode, last_alert_id, updated_at FROM email_prefs;
DROP TABLE email_prefs;
ALTER TABLE email_prefs_new RENAME TO email_prefs;
