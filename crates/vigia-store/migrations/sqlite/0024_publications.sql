-- Issue #17 part 2: publications. A frozen set of public aggregates for one whole year,
-- proposed by one person and approved (or rejected) by another. `content` is the JSON
-- the public site is written from; its SHA-256 is in every audit entry, so a figure
-- changed behind the app's back fails `vigia audit verify`. One approved publication per
-- organization and year: a second set of the same year could be subtracted from the first.
CREATE TABLE publications (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    year            INTEGER NOT NULL,
    sections        TEXT NOT NULL,
    detail          TEXT NOT NULL CHECK (detail IN ('facility', 'state')),
    status          TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected')),
    content         TEXT NOT NULL,
    content_sha256  TEXT NOT NULL,
    proposed_by     INTEGER NOT NULL REFERENCES users(id),
    proposed_at     INTEGER NOT NULL,
    decided_by      INTEGER REFERENCES users(id),
    decided_at      INTEGER
);
CREATE UNIQUE INDEX publications_one_approved_year ON publications (org_id, year) WHERE status = 'approved';
CREATE INDEX publications_org ON publications (org_id, id);
