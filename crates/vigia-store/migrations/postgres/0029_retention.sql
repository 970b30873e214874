-- Issue #20 part 3: retention and crypto-shredding.
-- Each case's personal data (the person, event notes and reasons, documents) is sealed
-- with the case's own data key, kept here only wrapped by the organization's data key
-- and never copied into the history (which records the wrapped key's hash). Erasing
-- the case's personal data empties key_sealed: every copy of those values, in the
-- history, the write-ahead log or a later backup, then opens with no key Vigía holds.
CREATE TABLE case_keys (
    case_id     BIGINT PRIMARY KEY REFERENCES cases(id),
    org_id      BIGINT NOT NULL REFERENCES organizations(id),
    key_sealed  BYTEA,
    created_at  BIGINT NOT NULL,
    erased_at   BIGINT,
    erased_by   BIGINT REFERENCES users(id),
    reason      TEXT CHECK (reason IN ('retention', 'person_request')),
    -- The confirmer stated that a recorded appeal or amparo had ended.
    litigation_ended BOOLEAN,
    -- Some of the case's values were sealed before cases had their own key: the
    -- history keeps those under the organization's key, out of the erasure's reach.
    partial     BOOLEAN,
    CHECK ((key_sealed IS NULL) = (erased_at IS NOT NULL)),
    CHECK ((erased_at IS NULL) = (reason IS NULL)),
    CHECK ((erased_at IS NULL) = (litigation_ended IS NULL)),
    CHECK ((erased_at IS NULL) = (partial IS NULL))
);
CREATE INDEX case_keys_org ON case_keys (org_id, case_id);

-- One rule per organization: personal data is erased this many months after its case
-- was closed, unless (when hold_while_litigating) a recorded appeal or amparo holds it.
CREATE TABLE retention_rules (
    org_id                 BIGINT PRIMARY KEY REFERENCES organizations(id),
    months_after_close     BIGINT NOT NULL CHECK (months_after_close BETWEEN 1 AND 1200),
    hold_while_litigating  BOOLEAN NOT NULL,
    updated_by             BIGINT REFERENCES users(id),
    updated_at             BIGINT NOT NULL
);

-- Cases due for erasure are a new kind of alert (and of e-mail choice).
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics', 'request', 'retention'));
ALTER TABLE email_prefs DROP CONSTRAINT email_prefs_kind_check;
ALTER TABLE email_prefs ADD CONSTRAINT email_prefs_kind_check
    CHECK (kind IN ('denial', 'episode', 'deadline', 'violation', 'statistics', 'request', 'retention'));
