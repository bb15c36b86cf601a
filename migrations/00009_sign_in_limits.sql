-- +goose Up
-- Sign-in limits (C3.4(8); docs/security.md, "Sign-in limits and lockout").

-- A wrong password that confirms a signed request (deregistration, terms
-- rejection) counts towards the same limits as a failed sign-in.
ALTER TABLE sign_in_attempts DROP CONSTRAINT sign_in_attempts_outcome,
    ADD CONSTRAINT sign_in_attempts_outcome
        CHECK (outcome IN ('success', 'failed', 'throttled', 'locked', 'wrong_old_password', 'wrong_confirmation'));

-- No btree index on text a client chooses: a btree entry has a size limit
-- (about 2.7 kB), and an insert over it fails, which once let a long
-- X-Request-ID keep a failed sign-in from being counted. The request ID is
-- looked up by equality only, so a hash index (which stores a 4-byte hash
-- whatever the length) serves the auditors' filter. The API now keeps a
-- client's request ID only when it has at most 64 safe characters.
DROP INDEX IF EXISTS audit_log_request;
CREATE INDEX audit_log_request ON audit_log USING hash (request_id) WHERE request_id <> '';

-- Source addresses are indexed with a time (sign-in limits, anonymous
-- report limits); the API writes only addresses checked with net.ParseIP
-- (at most 45 characters), and the columns now refuse anything longer.
ALTER TABLE sign_in_attempts ADD CONSTRAINT sign_in_attempts_source_ip_short CHECK (length(source_ip) <= 64) NOT VALID;
ALTER TABLE security_reports ADD CONSTRAINT security_reports_source_ip_short CHECK (length(source_ip) <= 64) NOT VALID;

-- +goose Down
ALTER TABLE security_reports DROP CONSTRAINT IF EXISTS security_reports_source_ip_short;
ALTER TABLE sign_in_attempts DROP CONSTRAINT IF EXISTS sign_in_attempts_source_ip_short;
DROP INDEX IF EXISTS audit_log_request;
CREATE INDEX audit_log_request ON audit_log (request_id) WHERE request_id <> '';
DELETE FROM sign_in_attempts WHERE outcome = 'wrong_confirmation';
ALTER TABLE sign_in_attempts DROP CONSTRAINT sign_in_attempts_outcome,
    ADD CONSTRAINT sign_in_attempts_outcome CHECK (outcome IN ('success', 'failed', 'throttled', 'locked', 'wrong_old_password'));
