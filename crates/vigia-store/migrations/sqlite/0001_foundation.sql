-- Foundation: organizations, users, sessions, tokens, facilities, sealed notes, audit chain.
-- Instants are INTEGER microseconds since the Unix epoch (UTC) on both backends.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT 'es' CHECK (locale IN ('es', 'en')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
);

-- One organization per user for now (UNIQUE user_id); the table allows more later.
CREATE TABLE memberships (
    user_id INTEGER NOT NULL UNIQUE REFERENCES users(id),
    org_id  INTEGER NOT NULL REFERENCES organizations(id),
    role    TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'monitor', 'lawyer', 'analyst')),
    PRIMARY KEY (user_id, org_id)
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    csrf         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE login_failures (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX login_failures_email_at ON login_failures(email, at);

CREATE TABLE facilities (
    id           INTEGER PRIMARY KEY,
    version      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    authority    TEXT NOT NULL,
    state_code   TEXT NOT NULL,
    municipality TEXT,
    latitude     REAL,
    longitude    REAL,
    capacity     INTEGER,
    opened_on    TEXT,
    closed_on    TEXT,
    sources      TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE org_keys (
    org_id     INTEGER NOT NULL REFERENCES organizations(id),
    version    INTEGER NOT NULL,
    wrapped    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, version)
);

CREATE TABLE facility_notes (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organizations(id),
    facility_id    INTEGER NOT NULL REFERENCES facilities(id),
    author_user_id INTEGER REFERENCES users(id),
    body_sealed    BLOB NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX facility_notes_org_facility ON facility_notes(org_id, facility_id);

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor_user_id INTEGER,
    org_id        INTEGER,
    action        TEXT NOT NULL,
    record_type   TEXT NOT NULL,
    record_id     INTEGER NOT NULL,
    content       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    entry_hash    TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log(record_type, record_id, seq);
CREATE INDEX audit_log_org ON audit_log(org_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE chain_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    touched_at INTEGER NOT NULL
);
INSERT INTO chain_head (id, seq, hash, touched_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);
