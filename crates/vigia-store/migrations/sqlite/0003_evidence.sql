-- Evidence files: content-addressed blobs and the records they are attached to.
-- With SQLite the bytes live in the data dir (blobs/ab/<sha256>) and `data` stays NULL;
-- with PostgreSQL they live in `data`.

CREATE TABLE blobs (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB,
    created_at   INTEGER NOT NULL
);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations(id),
    record_type  TEXT NOT NULL,
    record_id    INTEGER NOT NULL,
    sha256       TEXT NOT NULL REFERENCES blobs(sha256),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_record ON attachments(record_type, record_id);
