-- +goose Up
-- Fraud verification (C2.2), violations (C2.5, C3.4) and the sanctions they
-- lead to. The case and sanction workflows own these rows; the API writes
-- only the intake documents (a case report before its workflow starts, and
-- the user's answers, correction reports and appeals before the workflow
-- sees them). closed_at IS NULL keeps meaning "the case is open".

ALTER TABLE cases
    ADD COLUMN source           text NOT NULL DEFAULT 'staff' CHECK (source IN ('staff', 'automated_check')),
    ADD COLUMN check_code       text,
    ADD COLUMN opened_by        uuid REFERENCES staff(id),
    ADD COLUMN suspected_fields text[] NOT NULL DEFAULT '{}',
    ADD COLUMN evidence         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN summary          text NOT NULL DEFAULT '',
    -- violations: the rule broken (C3.4 item), the action ordered, what to fix and by when
    ADD COLUMN rule             text,
    ADD COLUMN action           text CHECK (action IS NULL OR action IN ('correct', 'suspend', 'cancel')),
    ADD COLUMN instructions     text NOT NULL DEFAULT '',
    ADD COLUMN corrections      text[] NOT NULL DEFAULT '{}',
    -- deadlines: the user's answer (fraud), the correction (violation), and
    -- the case's own service level (due_at: when it is overdue)
    ADD COLUMN answer_due_at    timestamptz,
    ADD COLUMN correct_by       timestamptz,
    ADD COLUMN due_at           timestamptz,
    ADD COLUMN escalated_at     timestamptz,
    ADD COLUMN findings         text[] NOT NULL DEFAULT '{}',
    -- the decision: who, what, why (reason code and clause), on which evidence
    ADD COLUMN outcome          text,
    ADD COLUMN decided_by       uuid REFERENCES staff(id),
    ADD COLUMN decided_by_kind  text,
    ADD COLUMN decided_at       timestamptz,
    ADD COLUMN reason_code      text,
    ADD COLUMN clause           text,
    ADD COLUMN decision_evidence text[] NOT NULL DEFAULT '{}',
    ADD COLUMN sanction_id      uuid;
CREATE INDEX cases_listing ON cases (kind, state, opened_at);

-- The case's timeline. event_key makes every write idempotent.
CREATE TABLE case_events (
    case_id   uuid NOT NULL REFERENCES cases(id),
    event_key text NOT NULL,
    kind      text NOT NULL,
    actor     text NOT NULL,
    detail    jsonb NOT NULL DEFAULT '{}',
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, event_key)
);

-- A restriction on an account. Several can be in force at once; the
-- account's status is derived from those in force (any cancellation:
-- cancelled; else any suspension: suspended; else active).
CREATE TABLE sanctions (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts(id),
    case_id           uuid NOT NULL REFERENCES cases(id),
    kind              text NOT NULL CHECK (kind IN ('suspension', 'cancellation')),
    state             text NOT NULL CHECK (state IN ('in_force', 'lifted', 'overturned')),
    final             boolean NOT NULL DEFAULT false,
    reason_code       text NOT NULL,
    clause            text NOT NULL,
    evidence          text[] NOT NULL DEFAULT '{}',
    conditions        text[] NOT NULL DEFAULT '{}',
    false_data        boolean NOT NULL DEFAULT false,
    imposed_by        uuid REFERENCES staff(id),
    imposed_by_kind   text NOT NULL CHECK (imposed_by_kind IN ('staff', 'system')),
    imposed_at        timestamptz NOT NULL,
    appeal_until      timestamptz NOT NULL,
    appeal_state      text NOT NULL DEFAULT 'none' CHECK (appeal_state IN ('none', 'pending', 'upheld', 'overturned')),
    appealed_at       timestamptz,
    appeal_decided_by uuid REFERENCES staff(id),
    appeal_decided_at timestamptz,
    appeal_reason     text,
    correction_state  text NOT NULL DEFAULT 'none' CHECK (correction_state IN ('none', 'reported', 'rejected', 'verified')),
    ended_at          timestamptz,
    ended_by          uuid REFERENCES staff(id),
    end_reason        text,
    UNIQUE (case_id)
);
CREATE INDEX sanctions_in_force ON sanctions (account_id) WHERE state = 'in_force';

CREATE TABLE sanction_events (
    sanction_id uuid NOT NULL REFERENCES sanctions(id),
    event_key   text NOT NULL,
    kind        text NOT NULL,
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sanction_id, event_key)
);

-- What the user sends: an answer to a fraud case, a correction report, an
-- appeal. Stored by the API before the workflow sees it (by ID only: the
-- text may hold personal data).
CREATE TABLE case_submissions (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('answer', 'correction', 'appeal')),
    case_id      uuid REFERENCES cases(id),
    sanction_id  uuid REFERENCES sanctions(id),
    account_id   uuid REFERENCES accounts(id),
    body         text NOT NULL,
    evidence     text[] NOT NULL DEFAULT '{}',
    submitted_at timestamptz NOT NULL DEFAULT now(),
    accepted_at  timestamptz,
    CHECK (num_nonnulls(case_id, sanction_id) = 1)
);

-- Which services a sanction paused or closed, so that lifting the last
-- restriction reopens exactly those.
ALTER TABLE account_services ADD COLUMN sanction_hold boolean NOT NULL DEFAULT false;

-- A restricted session lets a suspended or cancelled user read their cases
-- and sanctions and appeal; it opens nothing else. Only the token's SHA-256
-- is kept.
CREATE TABLE restricted_sessions (
    token_hash bytea PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- +goose Down
DROP TABLE IF EXISTS restricted_sessions, case_submissions, sanction_events, sanctions, case_events;
ALTER TABLE account_services DROP COLUMN IF EXISTS sanction_hold;
DROP INDEX IF EXISTS cases_listing;
ALTER TABLE cases
    DROP COLUMN IF EXISTS source, DROP COLUMN IF EXISTS check_code, DROP COLUMN IF EXISTS opened_by,
    DROP COLUMN IF EXISTS suspected_fields, DROP COLUMN IF EXISTS evidence, DROP COLUMN IF EXISTS summary,
    DROP COLUMN IF EXISTS rule, DROP COLUMN IF EXISTS action, DROP COLUMN IF EXISTS instructions,
    DROP COLUMN IF EXISTS corrections, DROP COLUMN IF EXISTS answer_due_at, DROP COLUMN IF EXISTS correct_by,
    DROP COLUMN IF EXISTS due_at, DROP COLUMN IF EXISTS escalated_at, DROP COLUMN IF EXISTS findings,
    DROP COLUMN IF EXISTS outcome, DROP COLUMN IF EXISTS decided_by, DROP COLUMN IF EXISTS decided_by_kind,
    DROP COLUMN IF EXISTS decided_at, DROP COLUMN IF EXISTS reason_code, DROP COLUMN IF EXISTS clause,
    DROP COLUMN IF EXISTS decision_evidence, DROP COLUMN IF EXISTS sanction_id;
