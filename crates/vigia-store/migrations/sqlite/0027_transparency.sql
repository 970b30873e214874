-- Issue #20 part 1: access-to-information requests. Each organization's own; what
-- happened to a request is a list of events never changed (a step that happens once is
-- recorded once); links name the records a request concerns. State regimes added by
-- administrators are kept whole, as JSON, beside the shipped federal ones.
CREATE TABLE transparency_requests (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    authority   TEXT NOT NULL,
    folio       TEXT NOT NULL,
    filed_on    TEXT NOT NULL,
    question    TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('pnt', 'email', 'in_person', 'mail', 'other')),
    filed_by    TEXT,
    regime      TEXT,
    created_by  INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, authority, folio)
);
CREATE INDEX transparency_requests_org ON transparency_requests (org_id, filed_on);

CREATE TABLE transparency_events (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    request_id  INTEGER NOT NULL REFERENCES transparency_requests(id),
    kind        TEXT NOT NULL CHECK (kind IN ('extension', 'answer', 'appeal_filed', 'appeal_admitted',
                                              'appeal_extension', 'appeal_resolved', 'compliance')),
    on_date     TEXT NOT NULL,
    answer_type TEXT CHECK (answer_type IN ('full', 'partial', 'classified', 'inexistent', 'not_competent', 'no_answer')),
    outcome     TEXT CHECK (outcome IN ('confirms', 'modifies', 'revokes', 'dismissed')),
    note        TEXT,
    created_by  INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX transparency_events_request ON transparency_events (org_id, request_id, id);
-- Every step but compliance happens once per request, even when two people record it
-- at the same moment; a recorded "no answer" does not stop the late answer that follows.
CREATE UNIQUE INDEX transparency_events_once ON transparency_events (request_id, kind)
    WHERE kind <> 'compliance' AND (answer_type IS NULL OR answer_type <> 'no_answer');

CREATE TABLE transparency_links (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    request_id  INTEGER NOT NULL REFERENCES transparency_requests(id),
    kind        TEXT NOT NULL CHECK (kind IN ('suspension', 'statement', 'recommendation', 'access_attempt')),
    reference   TEXT NOT NULL,
    created_by  INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (request_id, kind, reference)
);

CREATE TABLE transparency_regimes (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    spec        TEXT NOT NULL,
    created_by  INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL
);

-- A request's deadlines (answer overdue, appeal window closing) are a new kind of alert
-- (and of e-mail choice), read by the roles that track requests.
-- SQLite cannot change a CHECK in place: alerts (and deliveries, which reference it)
-- and e-mail choices are rebuilt, as 0006 did.
CREATE TABLE alerts_new (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    kind        TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics', 'request')),
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
    kind           TEXT NOT NULL CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics', 'request')),
    mode           TEXT NOT NULL CHECK (mode IN ('immediate', 'daily')),
    last_alert_id  INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);
INSERT INTO email_prefs_new SELECT user_id, kind, mode, last_alert_id, updated_at FROM email_prefs;
DROP TABLE email_prefs;
ALTER TABLE email_prefs_new RENAME TO email_prefs;
