-- Issue #19: a list of one facility's attempts, newest first, and its count are read
-- from one index alone (a covering index): the visibility and the filters' columns ride
-- along, so counting a facility's attempts no longer visits the table. It replaces the
-- narrower index it extends.
CREATE INDEX access_attempts_facility_cover ON access_attempts (facility_id, attempted_at, id, org_id, visibility, outcome);
DROP INDEX access_attempts_facility_time;
