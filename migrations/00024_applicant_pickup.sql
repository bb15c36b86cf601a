-- +goose Up
-- Issue 18 (C1.5): the initial password of an online or kiosk application
-- is picked up by the applicant (follow token and a code sent to the
-- verified mobile), not by a staff member: such a pickup has no issued_to.
ALTER TABLE credential_pickups ALTER COLUMN issued_to DROP NOT NULL;
ALTER TABLE credential_pickups ADD COLUMN to_applicant boolean NOT NULL DEFAULT false;
ALTER TABLE credential_pickups ADD CONSTRAINT credential_pickups_holder CHECK (to_applicant OR issued_to IS NOT NULL);

-- +goose Down
ALTER TABLE credential_pickups DROP CONSTRAINT IF EXISTS credential_pickups_holder;
ALTER TABLE credential_pickups DROP COLUMN IF EXISTS to_applicant;
