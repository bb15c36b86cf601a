-- +goose Up
-- Issue 19, C3.5 / C4 / C2.3: the audit log names the fields a change of
-- registration data touched and the change record, never the values
-- (docs/data-protection.md "The audit log"). Rows written before this
-- release carried the old and new name, ID number, mobile, e-mail and
-- address, and the reviewer's reason, in their detail. The log is
-- append-only for the application's role and its triggers refuse every
-- UPDATE; this migration, run once by the owner role (`hrss migrate`),
-- removes those keys from those rows only and records the run in the log
-- itself: which rows, which keys, under which migration. The trigger is
-- disabled only inside this transaction: if anything fails, nothing
-- changes and the trigger stays on.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;

WITH redacted AS (
    UPDATE audit_log
    SET detail = (detail - 'old_values' - 'new_values' - 'reason')
        || CASE WHEN detail ? 'reason' THEN jsonb_build_object('reason_given', coalesce(detail->>'reason', '') <> '')
                ELSE '{}'::jsonb END
    WHERE action IN ('registration_data.contact_changed', 'registration_data.change_approved', 'registration_data.change_rejected')
      AND (detail ? 'old_values' OR detail ? 'new_values' OR detail ? 'reason')
    RETURNING id
)
INSERT INTO audit_log (actor_kind, actor_id, action, record_kind, record_id, detail)
SELECT 'system', 'migration:00019', 'audit.redacted', 'audit_log', '',
       jsonb_build_object('migration', '00019_audit_values_redacted', 'rows', count(*),
                          'ids', coalesce(jsonb_agg(id ORDER BY id), '[]'::jsonb),
                          'removed_keys', jsonb_build_array('old_values', 'new_values', 'reason'))
FROM redacted;

ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;

-- +goose Down
-- A redaction is not undone: the values are gone.
SELECT 1;
