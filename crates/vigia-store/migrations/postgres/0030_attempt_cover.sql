-- Issue #19: a list of one facility's attempts, newest first, and its count are read
-- from one index alone (an index-only scan): the visibility and the filters' columns
-- ride along, so counting 35,000 attempts of a facility in a million no longer visits
-- the table (242 ms -> 6 ms on PostgreSQL). It replaces the narrower index it extends.
CREATE INDEX access_attempts_facility_cover ON access_attempts (facility_id, attempted_at, id)
    INCLUDE (org_id, visibility, outcome);
DROP INDEX access_attempts_facility_time;
