-- Two-factor sign-in (TOTP with recovery codes), organization security settings,
-- sign-ins waiting for their second factor, and re-authentication on sessions.

CREATE TABLE user_totp (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id),
    org_id        INTEGER NOT NULL REFERENCES organizations(id),
    secret_sealed BLOB NOT NULL,
    enabled_at    INTEGER,
    last_step     INTEGER,
    created_at    INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    next       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE org_settings (
    org_id      INTEGER PRIMARY KEY REFERENCES organizations(id),
    require_2fa INTEGER NOT NULL CHECK (require_2fa IN (0, 1)),
    updated_at  INTEGER NOT NULL
);

ALTER TABLE sessions ADD COLUMN reauth_at INTEGER;
