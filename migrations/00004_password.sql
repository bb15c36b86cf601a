-- +goose Up
-- Password lifecycle (C3.3), compromise reports, the user's activity record
-- (C3.3(4)) and registration data updates (C3.2).

-- compromise_locked_at: set by the compromise workflow when a report
-- arrives, cleared only by the in-person reset (C3.3(3)).
-- password_reminded_at: when the password-age sweep last reminded the user.
ALTER TABLE accounts
    ADD COLUMN compromise_locked_at timestamptz,
    ADD COLUMN compromise_report_id uuid,
    ADD COLUMN password_reminded_at timestamptz;
CREATE INDEX accounts_password_age ON accounts (id) WHERE status = 'active' AND compromise_locked_at IS NULL;

-- The outcome of each sign-in attempt, for the activity record and for
-- throttling: success, failed (wrong password or unknown name), throttled,
-- locked (compromise lock), wrong_old_password (a failed password change).
ALTER TABLE sign_in_attempts ADD COLUMN outcome text;
UPDATE sign_in_attempts SET outcome = CASE WHEN success THEN 'success' ELSE 'failed' END;
ALTER TABLE sign_in_attempts ALTER COLUMN outcome SET NOT NULL,
    ADD CONSTRAINT sign_in_attempts_outcome CHECK (outcome IN ('success', 'failed', 'throttled', 'locked', 'wrong_old_password'));
CREATE INDEX sign_in_attempts_account ON sign_in_attempts (account_id, at DESC, id DESC) WHERE account_id IS NOT NULL;
CREATE INDEX sign_in_attempts_source ON sign_in_attempts (source_ip, at);

-- Reports of illegal use or a security risk (C3.3(3)). The API stores the
-- report as received; the compromise workflow locks the account. An
-- anonymous report that matches no account is kept (account_id NULL) for
-- rate limiting only. subject_hash: SHA-256 of the reported ID number.
CREATE TABLE security_reports (
    id           uuid PRIMARY KEY,
    account_id   uuid REFERENCES accounts(id),
    channel      text NOT NULL CHECK (channel IN ('online', 'anonymous', 'staff')),
    staff_id     uuid REFERENCES staff(id),
    office       text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    subject_hash bytea,
    source_ip    text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    locked_at    timestamptz
);
CREATE INDEX security_reports_source ON security_reports (source_ip, created_at) WHERE channel = 'anonymous';
CREATE INDEX security_reports_subject ON security_reports (subject_hash, created_at) WHERE subject_hash IS NOT NULL;

-- In-person password resets at a counter (C3.3(2), C3.3(3)): who, where,
-- which identity document was checked. The new initial password waits in
-- credential_pickups under the key password-reset/<id>.
CREATE TABLE password_resets (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts(id),
    staff_id          uuid NOT NULL REFERENCES staff(id),
    office            text NOT NULL,
    identity_document text NOT NULL,
    note              text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'issued', 'refused')),
    refusal           text,
    lifted_compromise boolean NOT NULL DEFAULT false,
    requested_at      timestamptz NOT NULL DEFAULT now(),
    issued_at         timestamptz,
    pickup_expires_at timestamptz
);
CREATE INDEX password_resets_account ON password_resets (account_id, requested_at);

-- Changes of registration data (C3.2): contact data applied at once by the
-- user, name or ID number decided by a reviewer. Old values are kept.
CREATE TABLE data_changes (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts(id),
    kind         text NOT NULL CHECK (kind IN ('contact', 'identity')),
    status       text NOT NULL CHECK (status IN ('applied', 'pending', 'approved', 'rejected')),
    old_values   jsonb NOT NULL,
    new_values   jsonb NOT NULL,
    note         text NOT NULL DEFAULT '',
    reason       text,
    requested_at timestamptz NOT NULL DEFAULT now(),
    decided_by   uuid REFERENCES staff(id),
    decided_at   timestamptz
);
CREATE UNIQUE INDEX data_changes_one_pending ON data_changes (account_id) WHERE status = 'pending';
CREATE INDEX data_changes_queue ON data_changes (requested_at, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE IF EXISTS data_changes, password_resets, security_reports;
DROP INDEX IF EXISTS sign_in_attempts_account, sign_in_attempts_source;
ALTER TABLE sign_in_attempts DROP COLUMN IF EXISTS outcome;
DROP INDEX IF EXISTS accounts_password_age;
ALTER TABLE accounts DROP COLUMN IF EXISTS compromise_locked_at, DROP COLUMN IF EXISTS compromise_report_id,
    DROP COLUMN IF EXISTS password_reminded_at;
