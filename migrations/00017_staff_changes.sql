-- +goose Up
-- Dual control of staff changes (issue 15, C1.4): while two or more
-- administrators are active, creating a staff member, changing roles,
-- office or the active flag, and resetting a member's password or second
-- factor are requests that a second administrator approves or refuses.
-- The API stores the request (an intake document); from then on only the
-- staff-change workflow's activities write it and the change itself.
CREATE TABLE staff_change_requests (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('create', 'update', 'password', 'second_factor')),
    target_id       uuid NOT NULL,
    requested_by    uuid NOT NULL REFERENCES staff(id),
    -- the requester's roles, address and request ID, for the audit row of
    -- the change (which is on record as the requester's)
    requester_roles text[] NOT NULL DEFAULT '{}',
    source_ip       text NOT NULL DEFAULT '',
    request_id      text NOT NULL DEFAULT '',
    sole_admin      boolean NOT NULL,
    -- username, name, roles, office, active, reason: never a password.
    detail          jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'applied', 'refused', 'expired', 'failed')),
    outcome_code    text NOT NULL DEFAULT '',
    decided_by      uuid REFERENCES staff(id),
    decision_reason text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    decided_at      timestamptz
);
CREATE INDEX staff_change_requests_pending ON staff_change_requests (created_at) WHERE status = 'pending';

-- A generated first password of a staff member, sealed with PICKUP_KEY for
-- its single pickup by the administrator who made the change effective
-- (the approver, or the sole administrator), like credential_pickups.
CREATE TABLE staff_credential_pickups (
    operation_key text PRIMARY KEY,
    staff_id      uuid NOT NULL REFERENCES staff(id),
    issued_to     uuid NOT NULL REFERENCES staff(id),
    ciphertext    bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    picked_up_at  timestamptz,
    destroyed_at  timestamptz,
    CHECK (ciphertext IS NULL OR (picked_up_at IS NULL AND destroyed_at IS NULL))
);

-- +goose Down
DROP TABLE IF EXISTS staff_credential_pickups;
DROP TABLE IF EXISTS staff_change_requests;
