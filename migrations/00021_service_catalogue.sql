-- +goose Up
-- The service catalogue that staff manage (C1.4, C2.7, C3.4(6)).
-- Eligibility rules are data: a JSON list of typed rules with parameters
-- (internal/eligibility). min_age and max_age stay as a copy of the
-- age_range rule for older readers.
ALTER TABLE services
    ADD COLUMN rules      jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(rules) = 'array'),
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN retired_at timestamptz,
    ADD CONSTRAINT services_retired_inactive CHECK (retired_at IS NULL OR NOT active);
UPDATE services SET rules = jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('type', 'age_range', 'min_age', min_age, 'max_age', max_age)))
    WHERE min_age IS NOT NULL OR max_age IS NOT NULL;

-- A change users must be told about (C2.7): new rules or retirement. The
-- API stores the request; the service-change workflow applies it, notifies
-- every user holding the service and, on retirement, closes it for each of
-- them once.
CREATE TABLE service_changes (
    id              uuid PRIMARY KEY,
    service_code    text NOT NULL REFERENCES services(code),
    kind            text NOT NULL CHECK (kind IN ('rules', 'retire')),
    rules           jsonb CHECK (rules IS NULL OR jsonb_typeof(rules) = 'array'),
    note_zh         text NOT NULL DEFAULT '',
    note_en         text NOT NULL DEFAULT '',
    created_by      uuid NOT NULL REFERENCES staff(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    applied_at      timestamptz,
    users_targeted  bigint NOT NULL DEFAULT 0,
    notices_written bigint NOT NULL DEFAULT 0,
    messages_queued bigint NOT NULL DEFAULT 0,
    services_closed bigint NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'completed')),
    completed_at    timestamptz,
    CHECK ((kind = 'rules') = (rules IS NOT NULL))
);
-- One change of a service at a time.
CREATE UNIQUE INDEX service_changes_one_open ON service_changes (service_code) WHERE completed_at IS NULL;

-- +goose Down
DROP TABLE IF EXISTS service_changes;
ALTER TABLE services DROP CONSTRAINT IF EXISTS services_retired_inactive,
    DROP COLUMN IF EXISTS rules, DROP COLUMN IF EXISTS created_at, DROP COLUMN IF EXISTS updated_at, DROP COLUMN IF EXISTS retired_at;
