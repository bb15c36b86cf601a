-- +goose Up
-- Cases against an account or a pending application: fraud verification
-- (C2.2) and violations (C2.5). The case workflows own these rows and extend
-- the table in their own migration; other processes (deregistration,
-- registration approval) ask only whether an open case exists.
CREATE TABLE cases (
    id             uuid PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('fraud', 'violation')),
    account_id     uuid REFERENCES accounts(id),
    application_id uuid REFERENCES applications(id),
    state          text NOT NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz,
    CHECK (num_nonnulls(account_id, application_id) >= 1)
);
CREATE INDEX cases_open_by_account ON cases (account_id) WHERE closed_at IS NULL;
CREATE INDEX cases_open_by_application ON cases (application_id) WHERE closed_at IS NULL;

-- +goose Down
DROP TABLE IF EXISTS cases;
