-- Documents attached to cases (identity papers, official letters): personal data, so
-- the bytes are sealed with the organization's key and kept in the database on both
-- backends. sha256 is the hash of the plaintext, shown to users and recorded in the
-- audit history; sealed_sha256 is the hash of the stored ciphertext.

CREATE TABLE case_documents (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organizations(id),
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    sha256        TEXT NOT NULL,
    sealed_sha256 TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    data_sealed   BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX case_documents_case ON case_documents(case_id, id);
