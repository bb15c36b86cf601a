-- +goose Up
-- Deregistration (C3.5, C4), data-disclosure requests (C2.3) and what the
-- audit register needs (indexes for the auditors' filters).

-- Settings of these processes, read by their workflows when a run starts
-- (so a run keeps the values it started with).
CREATE TABLE process_settings (
    name        text PRIMARY KEY,
    value       interval NOT NULL CHECK (value > interval '0'),
    description text NOT NULL DEFAULT ''
);
INSERT INTO process_settings (name, value, description) VALUES
  ('deregistration.cooling_off', '7 days', 'cooling-off period of an account deregistration, during which the user may withdraw it'),
  ('deregistration.case_recheck', '1 day', 'how often a deregistration blocked by an open case re-checks the cases'),
  ('disclosure.consent_deadline', '14 days', 'how long a user_authorised disclosure waits for the user; silence is refusal'),
  ('disclosure.approval_deadline', '30 days', 'how long a law or service_need disclosure waits for a second approver'),
  ('disclosure.delivery_window', '72 hours', 'how long an approved disclosure may be exported, once');

-- Retention schedule per data category, counted from the end of the
-- agreement. keep = 0: de-identified at once; otherwise kept as the law
-- requires and erased by a timer when the period ends.
CREATE TABLE retention_schedule (
    category    text PRIMARY KEY,
    keep        interval NOT NULL CHECK (keep >= interval '0'),
    description text NOT NULL
);
INSERT INTO retention_schedule (category, keep, description) VALUES
  ('contact_details', '0', 'mobile number, e-mail and address in the person, application and supplements'),
  ('notices', '0', 'site notices in the account''s inbox'),
  ('sign_in_records', '3 years', 'sign-in attempts and sessions with their source addresses'),
  ('registration_record', '10 years', 'name, ID number and birth date in the application and person; the username'),
  ('decisions', '10 years', 'the review timeline, decision reasons and requests for information'),
  ('deregistration_request', '10 years', 'the written deregistration request document');

-- The written request to cancel services or deregister (C3.5): stored
-- unchanged with its time and the SHA-256 of its content.
CREATE TABLE deregistration_requests (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts(id),
    scope             text NOT NULL CHECK (scope IN ('services', 'account')),
    services          text[] NOT NULL DEFAULT '{}',
    document          text NOT NULL,
    content_sha256    text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    submitted_at      timestamptz NOT NULL,
    source_ip         text NOT NULL DEFAULT '',
    request_id        text NOT NULL DEFAULT '',
    status            text NOT NULL CHECK (status IN
                        ('received', 'cooling_off', 'blocked', 'withdrawn', 'completed', 'superseded')),
    cooling_off_until timestamptz,
    blocked_since     timestamptz,
    withdrawn_at      timestamptz,
    completed_at      timestamptz,
    erased_at         timestamptz,
    CHECK ((scope = 'services') = (cardinality(services) > 0))
);
CREATE UNIQUE INDEX deregistration_one_open_per_account ON deregistration_requests (account_id)
    WHERE scope = 'account' AND status IN ('received', 'cooling_off', 'blocked');

-- The document, its hash and time never change; only erasure at the end of
-- its retention blanks the document. A request is deleted only if its
-- workflow never started.
-- +goose StatementBegin
CREATE FUNCTION deregistration_document_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'received' THEN
            RAISE EXCEPTION 'a deregistration request is kept';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.account_id <> OLD.account_id OR NEW.scope <> OLD.scope OR NEW.services <> OLD.services
       OR NEW.content_sha256 <> OLD.content_sha256 OR NEW.submitted_at <> OLD.submitted_at
       OR (NEW.document <> OLD.document AND NOT (NEW.document = '' AND NEW.erased_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'a deregistration request document is stored unchanged';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER deregistration_document_unchanged BEFORE UPDATE OR DELETE ON deregistration_requests
    FOR EACH ROW EXECUTE FUNCTION deregistration_document_guard();

-- What the retention schedule does to one account's data: one row per
-- category, due at the end of the agreement plus the category's keep.
CREATE TABLE retention_steps (
    account_id uuid NOT NULL REFERENCES accounts(id),
    category   text NOT NULL REFERENCES retention_schedule(category),
    action     text NOT NULL CHECK (action IN ('deidentify', 'erase')),
    due_at     timestamptz NOT NULL,
    done_at    timestamptz,
    PRIMARY KEY (account_id, category)
);

-- Disclosure requests and the disclosure register (C2.3). Fields are codes
-- from a fixed catalogue: a password or its hash can never be asked for.
CREATE TABLE disclosure_requests (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL REFERENCES accounts(id),
    requester           text NOT NULL CHECK (requester <> ''),
    basis               text NOT NULL CHECK (basis IN ('law', 'user_authorised', 'service_need')),
    legal_reference     text,
    department          text,
    service_code        text REFERENCES services(code),
    purpose             text NOT NULL CHECK (purpose <> ''),
    fields              text[] NOT NULL CHECK (cardinality(fields) > 0 AND fields <@ ARRAY[
                          'name', 'id_number', 'birth_date', 'mobile', 'email', 'address',
                          'account_status', 'registered_at', 'services', 'agreement']::text[]),
    secrecy_order       text,
    secrecy_until       timestamptz,
    entered_by          uuid NOT NULL REFERENCES staff(id),
    entered_roles       text[] NOT NULL DEFAULT '{}',
    entered_at          timestamptz NOT NULL DEFAULT now(),
    source_ip           text NOT NULL DEFAULT '',
    request_id          text NOT NULL DEFAULT '',
    status              text NOT NULL CHECK (status IN
                          ('received', 'awaiting_consent', 'awaiting_approval', 'approved', 'delivered', 'refused', 'expired')),
    deadline            timestamptz,
    consent_decision    text CHECK (consent_decision IN ('accepted', 'refused', 'no_answer')),
    consent_at          timestamptz,
    approved_by         uuid REFERENCES staff(id),
    approver_roles      text[],
    decided_at          timestamptz,
    decision_reason     text,
    approved_fields     text[] CHECK (approved_fields IS NULL OR approved_fields <@ fields),
    delivery_expires_at timestamptz,
    delivered_at        timestamptz,
    delivered_to        uuid REFERENCES staff(id),
    closed_at           timestamptz,
    CHECK (basis <> 'law' OR coalesce(legal_reference, '') <> ''),
    CHECK (basis <> 'service_need' OR (coalesce(department, '') <> '' AND service_code IS NOT NULL)),
    CHECK ((secrecy_until IS NULL) = (secrecy_order IS NULL)),
    CHECK (secrecy_until IS NULL OR basis = 'law'),
    -- four eyes: whoever entered a request never approves it
    CHECK (approved_by IS NULL OR approved_by <> entered_by),
    CHECK (status <> 'delivered' OR (delivered_at IS NOT NULL AND approved_fields IS NOT NULL))
);
CREATE INDEX disclosure_requests_account ON disclosure_requests (account_id, entered_at);
CREATE INDEX disclosure_requests_open ON disclosure_requests (status, entered_at)
    WHERE status IN ('awaiting_consent', 'awaiting_approval', 'approved');

-- The register is kept: nothing deletes a request, and a delivered one
-- never changes.
-- +goose StatementBegin
CREATE FUNCTION disclosure_register_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'received' THEN
            RAISE EXCEPTION 'the disclosure register is kept';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'delivered' THEN
        RAISE EXCEPTION 'a delivered disclosure is final';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER disclosure_register_kept BEFORE UPDATE OR DELETE ON disclosure_requests
    FOR EACH ROW EXECUTE FUNCTION disclosure_register_guard();

-- Audit register: indexes for the auditors' filters and paging. The log
-- is append-only since 00001 (triggers refuse UPDATE, DELETE, TRUNCATE).
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_request ON audit_log (request_id) WHERE request_id <> '';

-- +goose Down
DROP INDEX IF EXISTS audit_log_at, audit_log_actor, audit_log_action, audit_log_request;
DROP TABLE IF EXISTS disclosure_requests, retention_steps, deregistration_requests, retention_schedule, process_settings;
DROP FUNCTION IF EXISTS disclosure_register_guard(), deregistration_document_guard();
