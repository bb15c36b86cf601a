-- +goose Up
-- Terms revision campaigns and announcements (C2.7, C3.5): the campaign
-- record with its counters, the notification outbox for channels other
-- than the site inbox, the written rejection requests, announcements, and
-- what the deemed acceptance records about the request that triggered it.

-- Who drafted a version (the terms editor).
ALTER TABLE terms_versions ADD COLUMN drafted_by uuid REFERENCES staff(id);

-- One campaign per published version. The campaign workflow
-- (terms/<version>) is the only writer; counters grow in the same
-- transaction as the rows they count, so a retried page adds nothing.
CREATE TABLE terms_campaigns (
    terms_version     text PRIMARY KEY REFERENCES terms_versions(version),
    status            text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'completed')),
    published_by      uuid REFERENCES staff(id),
    started_at        timestamptz NOT NULL DEFAULT now(),
    users_targeted    bigint NOT NULL DEFAULT 0,
    notices_written   bigint NOT NULL DEFAULT 0,
    messages_queued   bigint NOT NULL DEFAULT 0,
    sweep_done_at     timestamptz,
    completed_at      timestamptz
);

-- Deemed acceptance (C3.5) records the first authenticated use after the
-- notice and the effective date: which request it was.
ALTER TABLE terms_acceptances
    ADD COLUMN request_id text,
    ADD COLUMN request_route text,
    ADD COLUMN source_ip text;
CREATE INDEX terms_acceptances_by_version ON terms_acceptances (terms_version, position);

-- Catch-up passes find agreements that began after a campaign started.
CREATE INDEX agreements_effective_from ON agreements (effective_from);

-- A user's written rejection of a version (C3.5): the services to cancel,
-- or deregistration. Kept as submitted; the processes that cancel services
-- and deregister accounts act on it.
CREATE TABLE terms_rejections (
    id            uuid PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts(id),
    terms_version text NOT NULL REFERENCES terms_versions(version),
    choice        text NOT NULL CHECK (choice IN ('cancel_services', 'deregister')),
    services      text[] NOT NULL DEFAULT '{}',
    statement     text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'in_progress', 'done')),
    request_id    text NOT NULL DEFAULT '',
    source_ip     text NOT NULL DEFAULT '',
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, terms_version),
    CHECK ((choice = 'cancel_services') = (cardinality(services) > 0))
);

-- Announcements of service interruptions and rule changes (C2.7). The API
-- stores the document; the announcement workflow publishes it and writes
-- the inbox notices.
CREATE TABLE announcements (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('service_interruption', 'rule_change')),
    title_zh     text NOT NULL,
    title_en     text NOT NULL,
    body_zh      text NOT NULL DEFAULT '',
    body_en      text NOT NULL DEFAULT '',
    services     text[] NOT NULL DEFAULT '{}',
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    created_by   uuid NOT NULL REFERENCES staff(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    users_targeted  bigint NOT NULL DEFAULT 0,
    notices_written bigint NOT NULL DEFAULT 0,
    completed_at timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX announcements_visible ON announcements (ends_at) WHERE published_at IS NOT NULL;

-- Notification outbox: one message per user, channel and event, with its
-- delivery status. source groups the messages of one campaign or
-- announcement. The address is resolved from people at send time.
CREATE TABLE notification_outbox (
    id              bigserial PRIMARY KEY,
    operation_key   text NOT NULL UNIQUE,
    source          text NOT NULL,
    account_id      uuid NOT NULL REFERENCES accounts(id),
    channel         text NOT NULL CHECK (channel IN ('sms', 'email')),
    template        text NOT NULL,
    status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'abandoned')),
    attempts        int NOT NULL DEFAULT 0,
    max_attempts    int NOT NULL DEFAULT 5,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
-- Messages still to send ('failed' waits for its next attempt).
CREATE INDEX notification_outbox_due ON notification_outbox (source, next_attempt_at)
    WHERE status IN ('queued', 'failed');

-- The log of what was sent (or would have been, with the default sender).
CREATE TABLE notification_log (
    id         bigserial PRIMARY KEY,
    message_id bigint NOT NULL REFERENCES notification_outbox(id),
    attempt    int NOT NULL,
    sender     text NOT NULL,
    channel    text NOT NULL,
    address    text NOT NULL,
    text       text NOT NULL,
    result     text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, attempt)
);

-- Counters per source, kept by the dispatcher in the same transaction.
CREATE TABLE notification_counts (
    source    text NOT NULL,
    status    text NOT NULL,
    n         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (source, status)
);

-- +goose Down
DROP TABLE IF EXISTS notification_counts, notification_log, notification_outbox, announcements, terms_rejections, terms_campaigns;
DROP INDEX IF EXISTS agreements_effective_from;
DROP INDEX IF EXISTS terms_acceptances_by_version;
ALTER TABLE terms_acceptances DROP COLUMN IF EXISTS request_id, DROP COLUMN IF EXISTS request_route, DROP COLUMN IF EXISTS source_ip;
ALTER TABLE terms_versions DROP COLUMN IF EXISTS drafted_by;
