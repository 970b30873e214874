-- Access attempts counted by facility, organization, local day, purpose and sharing:
-- what the analysis reads instead of scanning every attempt. Kept in step with
-- `access_attempts` in the same transaction as every write; `audit verify` recounts it
-- from the attempts, and an import of an archive rebuilds it. `day` is the civil date
-- in the facility's time zone as days since 1970-01-01; `month` is year * 100 + month
-- of that date. `version` is the `access_state.version` of the write that last
-- changed the cell, so app servers can keep a copy in memory and fetch only what
-- changed; a cell emptied by a correction stays, with zero counts, for the same reason.

CREATE TABLE access_daily (
    facility_id BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    org_id      BIGINT NOT NULL,
    purpose     TEXT NOT NULL,
    shared      BIGINT NOT NULL,
    month       BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    refusals    BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    PRIMARY KEY (facility_id, day, org_id, purpose, shared)
);
CREATE INDEX access_daily_version ON access_daily(version);

-- `version` grows with every change to the counts or to who sees them (coalition
-- membership); `generation` grows when the table is rebuilt, so copies start over.
CREATE TABLE access_state (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    version    BIGINT NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO access_state (id, version, generation) VALUES (1, 0, 0);
