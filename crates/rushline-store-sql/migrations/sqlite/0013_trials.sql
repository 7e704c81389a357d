-- Trial campaigns (each with a pool `trial:<id>` of one slot per buyer) and the applications of
-- testers. A first-come trial records only selections: a refused applicant leaves no row, so
-- `not_selected` waits for raffle trials.

CREATE TABLE trials (
    id              BLOB PRIMARY KEY NOT NULL,
    product_id      BLOB NOT NULL REFERENCES products (id),
    seller_id       BLOB NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    slots           INTEGER NOT NULL CONSTRAINT trials_slots_check CHECK (slots BETWEEN 1 AND 100000),
    opens_at        TEXT NOT NULL,
    closes_at       TEXT NOT NULL,
    review_due_days INTEGER NOT NULL CONSTRAINT trials_review_due_days_check CHECK (review_due_days BETWEEN 1 AND 365),
    allocation      TEXT NOT NULL CONSTRAINT trials_allocation_check CHECK (allocation IN ('fcfs')),
    paused_at       TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT trials_window_check CHECK (opens_at < closes_at)
);
CREATE INDEX trials_opens_at ON trials (opens_at, id);
CREATE INDEX trials_seller ON trials (seller_id, opens_at, id);
CREATE INDEX trials_product ON trials (product_id, opens_at, id);

CREATE TABLE trial_applications (
    id                BLOB PRIMARY KEY NOT NULL,
    trial_id          BLOB NOT NULL REFERENCES trials (id),
    buyer_id          BLOB NOT NULL REFERENCES users (id),
    status            TEXT NOT NULL CONSTRAINT trial_applications_status_check CHECK (status IN (
                          'selected', 'not_selected', 'review_submitted', 'review_overdue', 'cancelled')),
    motivation        TEXT,
    claim_id          BLOB NOT NULL REFERENCES claims (id),
    review_due_at     TEXT NOT NULL,
    applied_at        TEXT NOT NULL,
    status_changed_at TEXT NOT NULL
);
-- One application per buyer and trial, cancelled or not.
CREATE UNIQUE INDEX trial_applications_one_per_buyer ON trial_applications (trial_id, buyer_id);
CREATE INDEX trial_applications_trial ON trial_applications (trial_id, applied_at, id);
CREATE INDEX trial_applications_buyer ON trial_applications (buyer_id, applied_at, id);
-- The overdue job's sweep, and the bar the group commit checks per applicant.
CREATE INDEX trial_applications_due ON trial_applications (review_due_at) WHERE status = 'selected';
CREATE INDEX trial_applications_overdue ON trial_applications (buyer_id, review_due_at) WHERE status = 'review_overdue';
