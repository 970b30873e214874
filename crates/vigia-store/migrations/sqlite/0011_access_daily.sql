-- Access attempts counted by facility, organization, local day, purpose and sharing:
-- what the analysis reads instead of scanning every attempt. Kept in step with
-- `access_attempts` in the same transaction as every write; `audit verify` recounts it
-- from the attempts, and an import of an archive rebuilds it. `day` is the civil date
-- in the facility's time zone as days since 1970-01-01; `month` is year * 100 + month
-- of that date. `version` is the `access_state.version` of the write that last
-- changed the cell, so app servers can keep a copy in memory and fetch only what
-- changed; a cell emptied by a correction stays, with zero counts, for the same reason.

CREATE TABLE access_daily (
    facility_id INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    purpose     TEXT NOT NULL,
    shared      INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    refusals    INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (facility_id, day, org_id, purpose, shared)
) WITHOUT ROWID;
CREATE INDEX access_daily_version ON access_daily(version);

-- `version` grows with every change to the counts or to who sees them (coalition
-- membership); `generation` grows when the table is rebuilt, so copies start over.
CREATE TABLE access_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    INTEGER NOT NULL,
    generation INTEGER NOT NULL
);
INSERT INTO access_state (id, version, generation) VALUES (1, 0, 0);
