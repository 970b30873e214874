-- One row per imported file of access attempts. Its single audit entry (record type
-- `attempt_import`) stands for every row it wrote: the rows' ids run from `first_id`
-- to `last_id`, and `rows_sha256` / `chunk_sha256` digest their audited content in id
-- order (see `vigia_domain::audit::ImportDigest`). An imported attempt's own audit
-- entries begin with its first correction, which first records the version the import
-- wrote (action `original`). `audit verify` recomputes the digests. Rows are never
-- changed or removed.

CREATE TABLE attempt_imports (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organizations(id),
    first_id     INTEGER NOT NULL,
    last_id      INTEGER NOT NULL,
    row_count    INTEGER NOT NULL,
    rows_sha256  TEXT NOT NULL,
    chunk_sha256 TEXT NOT NULL,
    file_sha256  TEXT,
    file_bytes   INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX attempt_imports_last ON attempt_imports(last_id);

CREATE TRIGGER attempt_imports_no_update BEFORE UPDATE ON attempt_imports
BEGIN SELECT RAISE(ABORT, 'attempt_imports is append-only'); END;
CREATE TRIGGER attempt_imports_no_delete BEFORE DELETE ON attempt_imports
BEGIN SELECT RAISE(ABORT, 'attempt_imports is append-only'); END;
