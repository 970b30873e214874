-- Coalitions and access attempts.

CREATE TABLE coalitions (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE coalition_members (
    coalition_id INTEGER NOT NULL REFERENCES coalitions(id),
    org_id       INTEGER NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (coalition_id, org_id)
);
CREATE INDEX coalition_members_org ON coalition_members(org_id);

CREATE TABLE access_attempts (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    facility_id     INTEGER NOT NULL REFERENCES facilities(id),
    version         INTEGER NOT NULL,
    requested_at    INTEGER,
    attempted_at    INTEGER NOT NULL,
    purpose         TEXT NOT NULL,
    team_size       INTEGER NOT NULL,
    people_to_see   INTEGER,
    outcome         TEXT NOT NULL,
    reason_category TEXT,
    reason_text     TEXT,
    official        TEXT,
    restrictions    TEXT NOT NULL DEFAULT '',
    notes           TEXT,
    visibility      TEXT NOT NULL CHECK (visibility IN ('private', 'coalition')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX access_attempts_facility_time ON access_attempts(facility_id, attempted_at);
CREATE INDEX access_attempts_org_time ON access_attempts(org_id, attempted_at);
CREATE INDEX access_attempts_time ON access_attempts(attempted_at);
