-- +goose Up
-- The disclosure register (C2.3): one row per delivered disclosure, who
-- received which fields of whose data and when. Append-only: a trigger
-- refuses UPDATE, DELETE and TRUNCATE, and the application's database role
-- may only INSERT and SELECT here (docs/security.md "Privileged access").
-- The row is written by the database itself when a request becomes
-- delivered, in the same transaction.
CREATE TABLE disclosure_register (
    disclosure_id uuid PRIMARY KEY REFERENCES disclosure_requests(id),
    account_id    uuid NOT NULL,
    requester     text NOT NULL,
    basis         text NOT NULL,
    fields        text[] NOT NULL,
    approved_by   uuid,
    delivered_to  uuid,
    delivered_at  timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disclosure_register_account ON disclosure_register (account_id, delivered_at);

-- +goose StatementBegin
CREATE FUNCTION disclosure_register_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disclosure_register is append-only';
END;
$$;
CREATE FUNCTION disclosure_register_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO disclosure_register (disclosure_id, account_id, requester, basis, fields, approved_by, delivered_to, delivered_at)
    VALUES (NEW.id, NEW.account_id, NEW.requester, NEW.basis, NEW.approved_fields, NEW.approved_by, NEW.delivered_to, NEW.delivered_at)
    ON CONFLICT (disclosure_id) DO NOTHING;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER disclosure_register_no_update_delete BEFORE UPDATE OR DELETE ON disclosure_register
    FOR EACH ROW EXECUTE FUNCTION disclosure_register_refuse_change();
CREATE TRIGGER disclosure_register_no_truncate BEFORE TRUNCATE ON disclosure_register
    FOR EACH STATEMENT EXECUTE FUNCTION disclosure_register_refuse_change();
CREATE TRIGGER disclosure_delivered_to_register AFTER UPDATE OF status ON disclosure_requests
    FOR EACH ROW WHEN (NEW.status = 'delivered' AND OLD.status IS DISTINCT FROM 'delivered')
    EXECUTE FUNCTION disclosure_register_record();
INSERT INTO disclosure_register (disclosure_id, account_id, requester, basis, fields, approved_by, delivered_to, delivered_at)
SELECT id, account_id, requester, basis, approved_fields, approved_by, delivered_to, delivered_at
FROM disclosure_requests WHERE status = 'delivered';

-- +goose Down
DROP TRIGGER IF EXISTS disclosure_delivered_to_register ON disclosure_requests;
DROP TABLE IF EXISTS disclosure_register;
DROP FUNCTION IF EXISTS disclosure_register_record(), disclosure_register_refuse_change();
