-- +goose Up
-- Issue 18 (C1.5): messages in the language the person chose. The
-- applicant's language (the registration form's page language or the
-- request's "language") is stored with the application and carried to the
-- account at approval, where the user may change it (PATCH /v1/me).
ALTER TABLE applications ADD COLUMN language text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en'));
ALTER TABLE accounts ADD COLUMN language text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en'));
-- A notice to an applicant who has no account (rejected, more information
-- requested) is an outbox row for the application: exactly one of
-- account_id and application_id is set. Its address is read from the
-- application at dispatch; the row keeps the template reference only.
ALTER TABLE notification_outbox ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE notification_outbox ADD COLUMN application_id uuid REFERENCES applications(id);
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_recipient
    CHECK ((account_id IS NULL) <> (application_id IS NULL));

-- +goose Down
ALTER TABLE notification_outbox DROP CONSTRAINT IF EXISTS notification_outbox_recipient;
DELETE FROM notification_outbox WHERE account_id IS NULL;
ALTER TABLE notification_outbox DROP COLUMN IF EXISTS application_id;
ALTER TABLE notification_outbox ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE accounts DROP COLUMN IF EXISTS language;
ALTER TABLE applications DROP COLUMN IF EXISTS language;
