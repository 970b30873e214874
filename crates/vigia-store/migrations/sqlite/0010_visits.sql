-- Monitoring visits. The report is kept as the validated JSON document (sections,
-- population, findings); interview notes are sealed. A device sends each draft under
-- its own idempotency key, so a visit sent twice is stored once.

CREATE TABLE visits (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    facility_id     INTEGER NOT NULL REFERENCES facilities(id),
    visited_on      TEXT NOT NULL,
    report          TEXT NOT NULL,
    notes_sealed    BLOB,
    idempotency_key TEXT NOT NULL,
    author_user_id  INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    UNIQUE (org_id, idempotency_key)
);
CREATE INDEX visits_facility ON visits(facility_id, visited_on);
