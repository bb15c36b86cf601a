-- +goose Up
-- Issue 18: the channel of an application is a fact, not a claim (C1.5).
-- A kiosk is a registered device: administrators register and revoke it;
-- its credential (a random token, stored as its SHA-256) is rotated by
-- issuing a new one, which ends the old at once.
CREATE TABLE kiosks (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    office          text NOT NULL,
    credential_hash bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      uuid REFERENCES staff(id),
    rotated_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_by      uuid REFERENCES staff(id)
);

-- Who entered the application: the reviewer at a counter, or the kiosk
-- (and its office). Online applications have neither.
ALTER TABLE applications
    ADD COLUMN entered_by uuid REFERENCES staff(id),
    ADD COLUMN kiosk_id   uuid REFERENCES kiosks(id),
    ADD COLUMN office     text,
    ADD COLUMN mobile_verified_at timestamptz;

-- One-time codes sent by SMS to prove a mobile number. Only an HMAC of the
-- code is stored; a code counts wrong answers and is used once.
CREATE TABLE verification_codes (
    id             uuid PRIMARY KEY,
    mobile         text NOT NULL,
    purpose        text NOT NULL CHECK (purpose IN ('registration', 'pickup', 'contact_change')),
    application_id uuid,
    account_id     uuid,
    code_mac       bytea NOT NULL,
    attempts       int NOT NULL DEFAULT 0,
    source_addr    text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    sent_at        timestamptz,
    send_result    text
);
CREATE INDEX verification_codes_mobile ON verification_codes (mobile, purpose, created_at);
CREATE INDEX verification_codes_source ON verification_codes (source_addr, created_at);

-- +goose Down
DROP TABLE IF EXISTS verification_codes;
ALTER TABLE applications DROP COLUMN IF EXISTS entered_by, DROP COLUMN IF EXISTS kiosk_id,
    DROP COLUMN IF EXISTS office, DROP COLUMN IF EXISTS mobile_verified_at;
DROP TABLE IF EXISTS kiosks;
