-- +goose Up
-- Foundation schema: registration review, accounts, staff, sessions,
-- service catalogue, terms and the append-only audit log.

CREATE TABLE terms_versions (
    version      text PRIMARY KEY,
    title        text NOT NULL,
    body         text NOT NULL,
    summary      text NOT NULL DEFAULT '',
    effective_at timestamptz NOT NULL,
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Service catalogue with eligibility rules (C3.4(6)): an age range for now.
CREATE TABLE services (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,40}$'),
    name_zh text NOT NULL,
    name_en text NOT NULL,
    min_age int CHECK (min_age IS NULL OR min_age >= 0),
    max_age int CHECK (max_age IS NULL OR max_age >= 0),
    active  boolean NOT NULL DEFAULT true
);

CREATE TABLE staff (
    id                   uuid PRIMARY KEY,
    username             text NOT NULL UNIQUE,
    name                 text NOT NULL,
    roles                text[] NOT NULL CHECK (cardinality(roles) > 0),
    office               text NOT NULL DEFAULT '',
    password_hash        text NOT NULL,
    must_change_password boolean NOT NULL DEFAULT true,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    active               boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    created_by           uuid REFERENCES staff(id)
);

-- An application is the document the applicant submitted (C1.5). The API
-- stores it once at intake; from then on only the registration workflow's
-- activities change it.
CREATE TABLE applications (
    id                uuid PRIMARY KEY,
    status            text NOT NULL CHECK (status IN
                        ('submitted', 'pending', 'info_requested', 'approved', 'rejected', 'expired', 'withdrawn')),
    name              text NOT NULL,
    id_number         text NOT NULL,
    birth_date        date NOT NULL,
    mobile            text NOT NULL,
    email             text,
    address           text NOT NULL,
    channel           text NOT NULL CHECK (channel IN ('online', 'counter', 'kiosk')),
    services          text[] NOT NULL,
    terms_version     text NOT NULL REFERENCES terms_versions(version),
    agreed_at         timestamptz NOT NULL,
    follow_token_hash bytea NOT NULL,
    flags             text[] NOT NULL DEFAULT '{}',
    info_requested    text,
    decided_by        uuid REFERENCES staff(id),
    decision          text,
    decision_reason   text,
    decided_at        timestamptz,
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    queued_at         timestamptz,
    closed_at         timestamptz,
    account_id        uuid
);
-- Exactly one open application per person, also under racing requests.
CREATE UNIQUE INDEX applications_one_open_per_person
    ON applications (id_number) WHERE status IN ('submitted', 'pending', 'info_requested');
CREATE INDEX applications_review_queue ON applications (queued_at, id) WHERE status = 'pending';

-- The application's timeline. event_key makes every write idempotent.
CREATE TABLE application_events (
    application_id uuid NOT NULL REFERENCES applications(id),
    event_key      text NOT NULL,
    kind           text NOT NULL,
    actor          text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}',
    at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, event_key)
);

-- Supplements the applicant sends after a request for information. Stored
-- as submitted; the workflow applies them.
CREATE TABLE application_supplements (
    id             uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications(id),
    changes        jsonb NOT NULL,
    note           text NOT NULL DEFAULT '',
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    applied_at     timestamptz
);

-- ID numbers refused registration, e.g. cancelled for false data (C2.2).
CREATE TABLE registration_blocks (
    id_number  text PRIMARY KEY,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The person behind an account: registration data kept up to date (C3.2).
CREATE TABLE people (
    id         uuid PRIMARY KEY,
    id_number  text NOT NULL UNIQUE,
    name       text NOT NULL,
    birth_date date NOT NULL,
    mobile     text NOT NULL,
    email      text,
    address    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id                   uuid PRIMARY KEY,
    person_id            uuid NOT NULL REFERENCES people(id),
    application_id       uuid NOT NULL UNIQUE REFERENCES applications(id),
    username             text NOT NULL,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'cancelled', 'deregistered')),
    password_hash        text NOT NULL,
    must_change_password boolean NOT NULL DEFAULT true,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    opened_at            timestamptz NOT NULL DEFAULT now(),
    closed_at            timestamptz
);
CREATE UNIQUE INDEX accounts_one_live_per_person ON accounts (person_id) WHERE status IN ('active', 'suspended');
CREATE UNIQUE INDEX accounts_live_username ON accounts (username) WHERE status IN ('active', 'suspended');
ALTER TABLE applications ADD CONSTRAINT applications_account_fk FOREIGN KEY (account_id) REFERENCES accounts(id);

CREATE TABLE account_services (
    account_id   uuid NOT NULL REFERENCES accounts(id),
    service_code text NOT NULL REFERENCES services(code),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paused', 'closed')),
    opened_at    timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz,
    PRIMARY KEY (account_id, service_code)
);

-- The agreement in force (C4): from approval until deregistration or
-- cancellation, with the terms version, time and channel of acceptance (C1.5).
CREATE TABLE agreements (
    account_id      uuid PRIMARY KEY REFERENCES accounts(id),
    terms_version   text NOT NULL REFERENCES terms_versions(version),
    channel         text NOT NULL,
    accepted_at     timestamptz NOT NULL,
    effective_from  timestamptz NOT NULL,
    effective_until timestamptz,
    end_reason      text
);

-- Each user's position on each terms version (C3.5).
CREATE TABLE terms_acceptances (
    account_id    uuid NOT NULL REFERENCES accounts(id),
    terms_version text NOT NULL REFERENCES terms_versions(version),
    position      text NOT NULL CHECK (position IN ('accepted', 'rejected', 'deemed_accepted')),
    channel       text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, terms_version)
);

-- A generated password waiting for its single pickup (C2.1): AES-GCM
-- ciphertext, readable once by the staff member it was issued to before
-- expires_at, then destroyed. operation_key names the issuing operation.
CREATE TABLE credential_pickups (
    operation_key text PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts(id),
    issued_to     uuid NOT NULL REFERENCES staff(id),
    ciphertext    bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    picked_up_at  timestamptz,
    destroyed_at  timestamptz,
    CHECK (ciphertext IS NULL OR (picked_up_at IS NULL AND destroyed_at IS NULL))
);

-- Server-side sessions, revocable at once. Only the token's SHA-256 is kept.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    subject_kind text NOT NULL CHECK (subject_kind IN ('user', 'staff')),
    account_id   uuid REFERENCES accounts(id),
    staff_id     uuid REFERENCES staff(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    source_ip    text NOT NULL DEFAULT '',
    CHECK ((subject_kind = 'user') = (account_id IS NOT NULL)),
    CHECK ((subject_kind = 'staff') = (staff_id IS NOT NULL))
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_staff ON sessions (staff_id) WHERE revoked_at IS NULL;

-- Sign-in attempts, keyed by a hash of the submitted username so that
-- throttling works the same for names with and without an account.
CREATE TABLE sign_in_attempts (
    id            bigserial PRIMARY KEY,
    username_hash bytea NOT NULL,
    account_id    uuid REFERENCES accounts(id),
    staff_id      uuid REFERENCES staff(id),
    success       boolean NOT NULL,
    source_ip     text NOT NULL DEFAULT '',
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_attempts_recent ON sign_in_attempts (username_hash, at);

-- Site notices: to an account's inbox, to an applicant (application), or to
-- a staff role (reminders and escalations). operation_key: one per event.
CREATE TABLE notices (
    id             uuid PRIMARY KEY,
    operation_key  text NOT NULL UNIQUE,
    account_id     uuid REFERENCES accounts(id),
    application_id uuid REFERENCES applications(id),
    staff_role     text,
    kind           text NOT NULL,
    title_zh       text NOT NULL,
    title_en       text NOT NULL,
    body_zh        text NOT NULL DEFAULT '',
    body_en        text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    read_at        timestamptz,
    CHECK (num_nonnulls(account_id, application_id, staff_role) = 1)
);
CREATE INDEX notices_account ON notices (account_id, created_at DESC) WHERE account_id IS NOT NULL;
CREATE INDEX notices_staff_role ON notices (staff_role, created_at DESC) WHERE staff_role IS NOT NULL;

-- Append-only audit log: who did what to which record, when, from where.
-- Writes from activities carry an operation_key so a retry adds nothing.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    operation_key text UNIQUE,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_kind    text NOT NULL CHECK (actor_kind IN ('staff', 'user', 'applicant', 'system')),
    actor_id      text NOT NULL DEFAULT '',
    actor_roles   text[] NOT NULL DEFAULT '{}',
    action        text NOT NULL,
    record_kind   text NOT NULL,
    record_id     text NOT NULL,
    detail        jsonb NOT NULL DEFAULT '{}',
    source_ip     text NOT NULL DEFAULT '',
    request_id    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_record ON audit_log (record_kind, record_id, at);

-- +goose StatementBegin
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- +goose Down
DROP TABLE IF EXISTS audit_log, notices, sign_in_attempts, sessions, credential_pickups,
    terms_acceptances, agreements, account_services, registration_blocks,
    application_supplements, application_events CASCADE;
ALTER TABLE IF EXISTS applications DROP CONSTRAINT IF EXISTS applications_account_fk;
DROP TABLE IF EXISTS accounts, people, applications, staff, services, terms_versions CASCADE;
DROP FUNCTION IF EXISTS audit_log_refuse_change();
