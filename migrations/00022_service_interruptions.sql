-- +goose Up
-- Planned interruptions (C2.7): an announcement of kind
-- service_interruption pauses the services it names for its window. The
-- announcement workflow writes these rows: in effect when the window
-- starts, ended when it ends (a workflow timer, not a cron). The catalogue
-- and "my account" show a service as interrupted while a row is in effect.
CREATE TABLE service_pauses (
    announcement_id uuid NOT NULL REFERENCES announcements(id),
    service_code    text NOT NULL REFERENCES services(code),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    status          text NOT NULL CHECK (status IN ('in_effect', 'ended')),
    began_at        timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    PRIMARY KEY (announcement_id, service_code),
    CHECK ((status = 'ended') = (ended_at IS NOT NULL))
);
CREATE INDEX service_pauses_in_effect ON service_pauses (service_code) WHERE status = 'in_effect';

-- +goose Down
DROP TABLE IF EXISTS service_pauses;
