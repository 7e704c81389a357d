-- A raffle trial's entrants who were not drawn become `not_selected` applications once its raffle
-- is exhausted: they hold no claim and owe no review. Every other application holds both.
ALTER TABLE trial_applications
    ALTER COLUMN claim_id DROP NOT NULL,
    ALTER COLUMN review_due_at DROP NOT NULL,
    ADD CONSTRAINT trial_applications_selection_check CHECK (
        (status = 'not_selected') = (claim_id IS NULL)
        AND (claim_id IS NULL) = (review_due_at IS NULL));
