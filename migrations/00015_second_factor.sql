-- +goose Up
-- A second factor (TOTP, RFC 6238) for staff, optional for users: the
-- secret sealed with PICKUP_KEY (internal/sealed), bound to its subject;
-- last_step is the newest time step accepted, so that a code is accepted
-- once. Recovery codes are kept as SHA-256 hashes only.
CREATE TABLE second_factors (
    subject_kind  text NOT NULL CHECK (subject_kind IN ('staff', 'user')),
    subject_id    uuid NOT NULL,
    secret_sealed bytea NOT NULL,
    confirmed_at  timestamptz,
    last_step     bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject_kind, subject_id)
);

CREATE TABLE recovery_codes (
    subject_kind text NOT NULL,
    subject_id   uuid NOT NULL,
    code_hash    bytea NOT NULL,
    used_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject_kind, subject_id, code_hash),
    FOREIGN KEY (subject_kind, subject_id) REFERENCES second_factors (subject_kind, subject_id) ON DELETE CASCADE
);

-- The step between a right password and the code: only the challenge's
-- SHA-256 is kept; it lives a few minutes and allows a few tries.
CREATE TABLE sign_in_challenges (
    challenge_hash bytea PRIMARY KEY,
    subject_kind   text NOT NULL,
    account_id     uuid REFERENCES accounts(id),
    staff_id       uuid REFERENCES staff(id),
    username_hash  bytea NOT NULL,
    tries          int NOT NULL DEFAULT 0,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges (expires_at);

-- When the session's holder last entered a second-factor code (at sign-in,
-- at enrolment or to re-authenticate).
ALTER TABLE sessions ADD COLUMN second_factor_at timestamptz;

-- +goose Down
ALTER TABLE sessions DROP COLUMN IF EXISTS second_factor_at;
DROP TABLE IF EXISTS sign_in_challenges, recovery_codes, second_factors;
