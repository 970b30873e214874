-- API tokens expire (90 days by default; tokens made before this get 90 days from
-- their creation) and remember when they were last used.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
UPDATE api_tokens SET expires_at = created_at + 7776000000000;
