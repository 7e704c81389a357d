-- A raffle trial's entrants who were not drawn become `not_selected` applications once its raffle
-- is exhausted: they hold no claim and owe no review. Every other application holds both.
--
-- SQLite cannot drop a NOT NULL in place: the table is rebuilt. The migration runs in a
-- transaction, where `foreign_keys` cannot be switched off, so the check of the reviews that
-- reference applications waits for the commit, by which time every application is back.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE trial_applications_before AS SELECT * FROM trial_applications;
DROP TABLE trial_applications;

CREATE TABLE trial_applications (
    id                BLOB PRIMARY KEY NOT NULL,
    trial_id          BLOB NOT NULL REFERENCES trials (id),
    buyer_id          BLOB NOT NULL REFERENCES users (id),
    status            TEXT NOT NULL CONSTRAINT trial_applications_status_check CHECK (status IN (
                          'selected', 'not_selected', 'review_submitted', 'review_overdue', 'cancelled')),
    motivation        TEXT,
    claim_id          BLOB REFERENCES claims (id),
    review_due_at     TEXT,
    applied_at        TEXT NOT NULL,
    status_changed_at TEXT NOT NULL,
    CONSTRAINT trial_applications_selection_check CHECK (
        (status = 'not_selected') = (claim_id IS NULL)
        AND (claim_id IS NULL) = (review_due_at IS NULL))
);
INSERT INTO trial_applications (id, trial_id, buyer_id, status, motivation, claim_id,
                                review_due_at, applied_at, status_changed_at)
SELECT id, trial_id, buyer_id, status, motivation, claim_id, review_due_at, applied_at,
       status_changed_at
FROM trial_applications_before;
DROP TABLE trial_applications_before;

-- One application per buyer and trial, cancelled or not.
CREATE UNIQUE INDEX trial_applications_one_per_buyer ON trial_applications (trial_id, buyer_id);
CREATE INDEX trial_applications_trial ON trial_applications (trial_id, applied_at, id);
CREATE INDEX trial_applications_buyer ON trial_applications (buyer_id, applied_at, id);
-- The overdue job's sweep, and the bar the group commit checks per applicant.
CREATE INDEX trial_applications_due ON trial_applications (review_due_at) WHERE status = 'selected';
CREATE INDEX trial_applications_overdue ON trial_applications (buyer_id, review_due_at) WHERE status = 'review_overdue';
