-- Row MACs for the security tables (issue #22 finding 4): an HMAC under a key derived
-- from the master key of the values that decide who a row lets in (see rowmac.rs).
-- A row written without the key lets no one in. The store gives the rows kept here
-- their MACs in this same transaction, with the key that opens the data.
ALTER TABLE users ADD COLUMN mac TEXT;
ALTER TABLE sessions ADD COLUMN mac TEXT;
ALTER TABLE api_tokens ADD COLUMN mac TEXT;
ALTER TABLE login_challenges ADD COLUMN mac TEXT;
ALTER TABLE password_resets ADD COLUMN mac TEXT;
ALTER TABLE recovery_codes ADD COLUMN mac TEXT;
ALTER TABLE user_totp ADD COLUMN mac TEXT;
-- Short-lived rows are not carried over: everyone signs in once more, and a reset
-- link or a half-finished sign-in is issued again.
DELETE FROM sessions;
DELETE FROM login_challenges;
DELETE FROM password_resets;
