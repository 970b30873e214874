-- Access attempts counted by facility, organization, local day, purpose and sharing:
-- what the analysis page reads instead of scanning every attempt. Kept in step with
-- `access_attempts` in the same transaction as every write; `audit verify` recounts it
-- from the attempts, and an import of an archive rebuilds it. `day` is the civil date
-- in the facility's time zone as days since 1970-01-01; `month` is year * 100 + month
-- of that date.

CREATE TABLE access_daily (
    facility_id BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    org_id      BIGINT NOT NULL,
    purpose     TEXT NOT NULL,
    shared      BIGINT NOT NULL,
    month       BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    refusals    BIGINT NOT NULL,
    PRIMARY KEY (facility_id, day, org_id, purpose, shared)
);

-- Bumped with every change to the counts, so cached analyses know when they are stale.
CREATE TABLE access_state (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO access_state (id, version) VALUES (1, 0);
