-- Each organization keeps its own review of a contradiction (security review finding 12):
-- one organization's review no longer replaces another's. A review written before this
-- migration keeps the audit record number it was written under (`by_org` false: the
-- number comes from the key alone); new reviews are numbered from the key and the
-- organization.
CREATE TABLE detection_reviews_by_org (
    key         TEXT NOT NULL,
    org_id      BIGINT NOT NULL REFERENCES organizations(id),
    status      TEXT NOT NULL CHECK (status IN ('confirmed', 'dismissed')),
    reason      TEXT NOT NULL,
    reviewed_by BIGINT REFERENCES users(id),
    reviewed_at BIGINT NOT NULL,
    by_org      BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (key, org_id)
);
INSERT INTO detection_reviews_by_org (key, org_id, status, reason, reviewed_by, reviewed_at, by_org)
    SELECT key, org_id, status, reason, reviewed_by, reviewed_at, FALSE FROM detection_reviews;
DROP TABLE detection_reviews;
ALTER TABLE detection_reviews_by_org RENAME TO detection_reviews;
