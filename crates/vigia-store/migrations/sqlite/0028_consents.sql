-- Issue #20 part 2: consent per purpose, one record per decision (a withdrawal is a new
-- record; the latest by day decides), and shares of a case with a partner organization,
-- opened only while the person's consent to share with that partner stands.
CREATE TABLE consents (
    id                    INTEGER PRIMARY KEY,
    org_id                INTEGER NOT NULL REFERENCES organizations(id),
    case_id               INTEGER NOT NULL REFERENCES cases(id),
    purpose               TEXT NOT NULL CHECK (purpose IN ('legal_representation', 'litigation', 'share_partner',
                                                           'anonymized_publication', 'contact_after_release')),
    partner_org_id        INTEGER REFERENCES organizations(id),
    decision              TEXT NOT NULL CHECK (decision IN ('given', 'withdrawn')),
    on_date               TEXT NOT NULL,
    how                   TEXT NOT NULL CHECK (how IN ('oral', 'written')),
    evidence_document_id  INTEGER REFERENCES case_documents(id),
    recorded_by           INTEGER REFERENCES users(id),
    created_at            INTEGER NOT NULL,
    CHECK ((purpose = 'share_partner') = (partner_org_id IS NOT NULL))
);
CREATE INDEX consents_case ON consents (org_id, case_id, id);

CREATE TABLE case_shares (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organizations(id),
    case_id         INTEGER NOT NULL REFERENCES cases(id),
    partner_org_id  INTEGER NOT NULL REFERENCES organizations(id),
    created_by      INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    ended_by        INTEGER REFERENCES users(id),
    ended_at        INTEGER
);
CREATE INDEX case_shares_partner ON case_shares (partner_org_id, id);
-- One open share per case and partner.
CREATE UNIQUE INDEX case_shares_open ON case_shares (case_id, partner_org_id) WHERE ended_at IS NULL;
