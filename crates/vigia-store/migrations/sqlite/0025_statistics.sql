-- Issue #18 part 1: official statistics. Each imported table of the UPM bulletin is a
-- dataset version with its provenance; the file it was read from is kept once by its
-- SHA-256 as evidence. Versions are never changed: next month's cumulative file is a
-- new version, and revisions are what differs between the two. The figures' SHA-256 is
-- in each version's audit entry, so a figure changed behind the app's back fails
-- `vigia audit verify`. Counts are events, not people.
CREATE TABLE stat_files (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    data        BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE stat_versions (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL,
    year            INTEGER NOT NULL,
    measure         TEXT NOT NULL CHECK (measure IN ('presented', 'channelled', 'returned')),
    dimension       TEXT NOT NULL CHECK (dimension IN ('nationality', 'state', 'age', 'sex', 'minors')),
    title           TEXT NOT NULL,
    sheet           TEXT NOT NULL,
    months          TEXT NOT NULL,
    row_count       INTEGER NOT NULL,
    file_name       TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    file_sha256     TEXT NOT NULL REFERENCES stat_files(sha256),
    publisher       TEXT NOT NULL,
    source_url      TEXT,
    retrieved_on    TEXT NOT NULL,
    published_on    TEXT,
    illustrative    BOOLEAN NOT NULL DEFAULT FALSE,
    figures_sha256  TEXT NOT NULL,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    imported_by     INTEGER REFERENCES users(id),
    imported_at     INTEGER NOT NULL,
    UNIQUE (file_sha256, sheet)
);
CREATE INDEX stat_versions_table ON stat_versions (code, year, id);

CREATE TABLE stat_figures (
    version_id  INTEGER NOT NULL REFERENCES stat_versions(id),
    position    INTEGER NOT NULL,
    key         TEXT NOT NULL,
    label       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    month       INTEGER NOT NULL,
    value       INTEGER NOT NULL,
    PRIMARY KEY (version_id, key, month)
);
CREATE INDEX stat_figures_key ON stat_figures (key, version_id);

-- Spikes and breaks in official series are a new kind of alert (and of e-mail choice).
-- SQLite cannot change a CHECK in place: alerts (and deliveries, which reference it)
-- and e-mail choices are rebuilt, as 0006 did.
CREATE TABLE alerts_new (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    kind        TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics')),
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
    kind           TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics')),
    mode           TEXT NOT NULL CHECK (mode IN ('immediate', 'daily')),
    last_alert_id  INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);
INSERT INTO email_prefs_new SELECT user_id, kind, mode, last_alert_id, updated_at FROM email_prefs;
DROP TABLE email_prefs;
ALTER TABLE email_prefs_new RENAME TO email_prefs;
