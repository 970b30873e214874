-- Issue #19: a list of attempts is read one organization at a time, newest first from
-- the page's cursor (one source per organization the viewer may read). This index
-- gives that order directly, with the visibility and the filters' columns riding
-- along so a partner's private rows and other facilities are skipped without visiting
-- the table. It extends, and replaces, the index on (org_id, attempted_at).
CREATE INDEX access_attempts_org_cover ON access_attempts (org_id, attempted_at, id, visibility, facility_id, outcome);
DROP INDEX access_attempts_org_time;
