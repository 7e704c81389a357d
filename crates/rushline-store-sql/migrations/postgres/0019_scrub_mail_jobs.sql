-- A mail job delivered or given up on keeps only its recipient (`SendMail::kept`), since a
-- message may carry a verification code. Jobs that ended before that rule kept their whole text:
-- cut them the same way.
UPDATE jobs
SET payload = payload || jsonb_build_object(
    'subject', '(removed once delivered or given up)',
    'text', '(removed once delivered or given up)')
WHERE kind = 'send_mail' AND status IN ('done', 'dead');
