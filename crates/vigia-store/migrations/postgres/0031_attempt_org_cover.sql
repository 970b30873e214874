-- Issue #19: a list of attempts is read one organization at a time, newest first from
-- the page's cursor (one source per organization the viewer may read). This index
-- gives that order directly (an index-only scan), with the visibility and the
-- filters' columns riding along. It extends, and replaces, the index on
-- (org_id, attempted_at).
CREATE INDEX access_attempts_org_cover ON access_attempts (org_id, attempted_at, id)
    INCLUDE (visibility, facility_id, outcome);
DROP INDEX access_attempts_org_time;
