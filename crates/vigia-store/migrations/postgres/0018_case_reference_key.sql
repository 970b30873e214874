-- A case's reference can name a person, so it is sealed (security review finding 11);
-- a sealed value is different each time, so uniqueness within an organization moves
-- to a keyed hash of the reference (HMAC under a key derived from the organization's
-- data key). The store fills it for cases written before when it next opens.
ALTER TABLE cases ADD COLUMN reference_key TEXT;
CREATE UNIQUE INDEX cases_reference_key ON cases(org_id, reference_key);
