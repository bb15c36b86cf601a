-- Hostile clients (issue 13). Per-address limits of anonymous routes (C3.4(8), docs/security.md
-- "Anonymous routes"): one counter per bucket, source address and fixed
-- window, raised and checked in one upsert so that every API replica shares
-- it and concurrent requests cannot race past it. The address is a parsed
-- IPv4 address or an IPv6 /64 prefix (at most 45 characters), never raw
-- client text. Rows of past windows are deleted by the API's housekeeping.
-- +goose Up
CREATE TABLE anonymous_hits (
    bucket       text        NOT NULL CHECK (length(bucket) <= 32),
    address      text        NOT NULL CHECK (length(address) <= 45),
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    PRIMARY KEY (bucket, address, window_start)
);
CREATE INDEX anonymous_hits_window ON anonymous_hits (window_start);

-- Staff sessions end after an idle time besides their absolute lifetime:
-- the API refreshes last_seen_at at most once a minute.
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();

-- An initial password that was never changed stops working after
-- INITIAL_PASSWORD_TTL; the right password then answers
-- initial_password_expired and is recorded as such.
ALTER TABLE sign_in_attempts DROP CONSTRAINT sign_in_attempts_outcome,
    ADD CONSTRAINT sign_in_attempts_outcome
        CHECK (outcome IN ('success', 'failed', 'throttled', 'locked', 'wrong_old_password', 'wrong_confirmation', 'initial_expired'));

-- +goose Down
DELETE FROM sign_in_attempts WHERE outcome = 'initial_expired';
ALTER TABLE sign_in_attempts DROP CONSTRAINT sign_in_attempts_outcome,
    ADD CONSTRAINT sign_in_attempts_outcome CHECK (outcome IN ('success', 'failed', 'throttled', 'locked', 'wrong_old_password', 'wrong_confirmation'));
ALTER TABLE sessions DROP COLUMN IF EXISTS last_seen_at;
DROP TABLE IF EXISTS anonymous_hits;
