-- Evidence files are sealed at rest with the data key of the organization that first
-- stored them (security review finding 10). `key_org` names that organization; a file
-- stored before this migration has none until the store seals it when it next opens.
ALTER TABLE blobs ADD COLUMN key_org BIGINT REFERENCES organizations(id);
