-- +goose Up
-- Issue 18 (C1.5): the delivery record of every message sent to a person,
-- one row per send attempt: the outbox's SMS and e-mail notices (message_id)
-- and the verification codes the API sends directly (code_id; never the
-- code or the text). Status: sent (with the provider's ID for the message),
-- retrying (failed, another attempt follows), failed (a code: not
-- retried, the applicant asks again), abandoned (failed for good or after
-- the last attempt). The reason is the sender's error with the address
-- masked. Staff read it on the account page (GET /v1/accounts/{id}/messages).
CREATE TABLE message_deliveries (
    id             bigserial PRIMARY KEY,
    account_id     uuid,
    application_id uuid,
    message_id     bigint REFERENCES notification_outbox(id),
    code_id        uuid,
    channel        text NOT NULL CHECK (channel IN ('sms', 'email')),
    kind           text NOT NULL,
    sender         text NOT NULL,
    attempt        int NOT NULL,
    status         text NOT NULL CHECK (status IN ('sent', 'retrying', 'failed', 'abandoned')),
    provider_id    text,
    reason         text,
    at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((message_id IS NULL) <> (code_id IS NULL)),
    UNIQUE (message_id, attempt)
);
CREATE INDEX message_deliveries_account ON message_deliveries (account_id, at) WHERE account_id IS NOT NULL;
CREATE INDEX message_deliveries_application ON message_deliveries (application_id, at) WHERE application_id IS NOT NULL;
CREATE INDEX message_deliveries_unlinked ON message_deliveries (at) WHERE account_id IS NULL AND application_id IS NULL;

-- +goose Down
DROP TABLE IF EXISTS message_deliveries;
