-- Official statements (public record: every organization reads them), the claims each
-- makes, and analysts' reviews of the contradictions the domain detects.

CREATE TABLE statements (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organizations(id),
    version          INTEGER NOT NULL DEFAULT 1,
    authority        TEXT NOT NULL,
    speaker          TEXT,
    speaker_position TEXT,
    published_at     INTEGER NOT NULL,
    channel          TEXT NOT NULL,
    source_url       TEXT,
    language         TEXT NOT NULL,
    text             TEXT NOT NULL,
    translation      TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX statements_published ON statements(published_at);

CREATE TABLE claims (
    id           INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL REFERENCES statements(id),
    topic        TEXT NOT NULL,
    scope        TEXT NOT NULL,
    position     TEXT NOT NULL,
    from_date    TEXT NOT NULL,
    until_date   TEXT,
    confirmed    INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
    created_at   INTEGER NOT NULL
);
CREATE INDEX claims_statement ON claims(statement_id);

CREATE TABLE detection_reviews (
    key         TEXT PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id),
    status      TEXT NOT NULL CHECK (status IN ('confirmed', 'dismissed')),
    reason      TEXT NOT NULL,
    reviewed_by INTEGER REFERENCES users(id),
    reviewed_at INTEGER NOT NULL
);
