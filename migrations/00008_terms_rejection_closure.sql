-- A rejection of revised terms is also the user's written, password-
-- confirmed request to cancel services or deregister (C3.5): the API stores
-- it as a deregistration request in the same transaction and starts its
-- closure process. The rejection names that request.
-- +goose Up
ALTER TABLE terms_rejections
    ADD COLUMN deregistration_request_id uuid UNIQUE REFERENCES deregistration_requests(id);

-- +goose Down
ALTER TABLE terms_rejections DROP COLUMN deregistration_request_id;
