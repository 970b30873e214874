-- Access attempts counted by facility, organization, local day, purpose and sharing:
-- what the analysis page reads instead of scanning every attempt. Kept in step with
-- `access_attempts` in the same transaction as every write; `audit verify` recounts it
-- from the attempts, and an import of an archive rebuilds it. `day` is the civil date
-- in the facility's time zone as days since 1970-01-01; `month` is year * 100 + month
-- of that date.

CREATE TABLE access_daily (
    facility_id INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    purpose     TEXT NOT NULL,
    shared      INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    refusals    INTEGER NOT NULL,
    PRIMARY KEY (facility_id, day, org_id, purpose, shared)
) WITHOUT ROWID;

-- Bumped with every change to the counts, so cached analyses know when they are stale.
CREATE TABLE access_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO access_state (id, version) VALUES (1, 0);
