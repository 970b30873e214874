-- Issue #19: the lists of visits, cases and statements are read a page at a time,
-- newest first from the page's cursor, instead of whole. These indexes give each
-- list's order directly (the organization's visits by day, its cases by number, every
-- statement by publication), so a deep page costs what the first one does.
CREATE INDEX visits_org_day ON visits (org_id, visited_on, id);
CREATE INDEX cases_org_id ON cases (org_id, id);
CREATE INDEX statements_published_id ON statements (published_at, id);
DROP INDEX statements_published;
