-- +goose Up
-- Issue 21 (C2.7): a campaign's channel messages are derived from its
-- inbox notices while it dispatches, instead of being queued beside every
-- notice by the sweep. The sweep then writes only what must be durable
-- before the campaign counts as delivered (the notices), and the outbox
-- grows a batch at a time. One row per campaign source: which notices
-- (by operation-key prefix) get which messages, and how far the
-- derivation got (by account ID, the order the notices are read in).
CREATE TABLE outbox_derivations (
    source            text PRIMARY KEY,
    notice_key_prefix text NOT NULL,
    outbox_key_prefix text NOT NULL,
    template          text NOT NULL,
    -- The campaign whose messages_queued counter grows as messages are derived.
    campaign_kind     text NOT NULL CHECK (campaign_kind IN ('terms', 'service_change')),
    campaign_ref      text NOT NULL,
    after_account     uuid,
    derived           bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    done_at           timestamptz
);

-- +goose Down
DROP TABLE IF EXISTS outbox_derivations;
