-- Which master key the data is under (issue #22 finding 2): an HMAC of a fixed text
-- under the master key, never the key itself. Every write checks it as it takes the
-- chain's lock, so a process still holding a replaced master key (a server running
-- through `vigia keys rotate`, an `org add` racing it) cannot wrap a new organization's
-- key, or anything else, under the old one. Filled when the store next opens.
ALTER TABLE chain_head ADD COLUMN key_check TEXT;
