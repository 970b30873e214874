-- Issue #18 part 2: UN recommendations to Mexico, shared by every organization as
-- imported from the OHCHR Universal Human Rights Index (re-imports update a row by its
-- annotation id; each change is a new version in the audit chain). Lists (themes,
-- affected persons…) are stored one value per line. Each organization's evidence links
-- and assessments are its own and are never changed: a new assessment is a new row.
CREATE TABLE recommendations (
    id                INTEGER PRIMARY KEY,
    annotation_id     TEXT NOT NULL UNIQUE,
    body              TEXT NOT NULL,
    symbol            TEXT NOT NULL,
    paragraph         TEXT NOT NULL,
    published_on      TEXT,
    text              TEXT NOT NULL,
    language          TEXT NOT NULL,
    summary           BOOLEAN NOT NULL DEFAULT FALSE,
    kind              TEXT NOT NULL,
    themes            TEXT NOT NULL,
    affected_persons  TEXT NOT NULL,
    sdgs              TEXT NOT NULL,
    countries         TEXT NOT NULL,
    upr_states        TEXT NOT NULL,
    upr_position      TEXT,
    upr_session       TEXT,
    version           INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE recommendation_links (
    id                 INTEGER PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organizations(id),
    recommendation_id  INTEGER NOT NULL REFERENCES recommendations(id),
    kind               TEXT NOT NULL CHECK (kind IN ('access_attempt', 'visit', 'statement', 'case_count')),
    reference          TEXT NOT NULL,
    note               TEXT,
    created_by         INTEGER REFERENCES users(id),
    created_at         INTEGER NOT NULL,
    UNIQUE (org_id, recommendation_id, kind, reference)
);

CREATE TABLE assessments (
    id                 INTEGER PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organizations(id),
    recommendation_id  INTEGER NOT NULL REFERENCES recommendations(id),
    status             TEXT NOT NULL CHECK (status IN ('not_implemented', 'partly', 'implemented')),
    assessed_on        TEXT NOT NULL,
    reasoning          TEXT NOT NULL,
    evidence           TEXT NOT NULL,
    -- The version of the recommendation's text the assessment judged: a later import
    -- that changes the text shows that the assessment was about the earlier wording.
    recommendation_version INTEGER NOT NULL,
    created_by         INTEGER REFERENCES users(id),
    created_at         INTEGER NOT NULL
);
CREATE INDEX assessments_org ON assessments (org_id, recommendation_id, id);
