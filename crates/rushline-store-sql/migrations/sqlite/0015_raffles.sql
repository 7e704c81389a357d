-- Raffles: a drop or a trial may allocate by a draw instead of first come. A raffle is keyed by
-- what it allocates (`subject_id`, a drop's or a trial's id), keeps its secret seed until the
-- draw, and records the entries (append-only, one per buyer) and, once drawn, every entrant's
-- place in draw order with the offer the sweep made of it.

ALTER TABLE drops ADD COLUMN allocation TEXT NOT NULL DEFAULT 'fcfs'
    CONSTRAINT drops_allocation_check CHECK (allocation IN ('fcfs', 'raffle'));

-- SQLite cannot change a CHECK constraint in place, but drops a column with its own constraint:
-- every trial so far is first come, the column's default.
ALTER TABLE trials DROP COLUMN allocation;
ALTER TABLE trials ADD COLUMN allocation TEXT NOT NULL DEFAULT 'fcfs'
    CONSTRAINT trials_allocation_check CHECK (allocation IN ('fcfs', 'raffle'));

CREATE TABLE raffles (
    subject_id           BLOB PRIMARY KEY NOT NULL,
    kind                 TEXT NOT NULL CONSTRAINT raffles_kind_check CHECK (kind IN ('drop', 'trial')),
    entries_close_at     TEXT NOT NULL,
    -- A drop's winners' window to buy; NULL for a trial, whose places are selections.
    claim_window_minutes INTEGER CONSTRAINT raffles_claim_window_check CHECK (claim_window_minutes BETWEEN 1 AND 10080),
    seed                 BLOB NOT NULL,
    seed_commitment      TEXT NOT NULL,
    -- Set by the draw before it reads the entries: no entry commits after it.
    entries_closed_at    TEXT,
    drawn_at             TEXT,
    entrants             INTEGER,
    -- Every place was offered and none is open any more: nothing left to roll.
    exhausted_at         TEXT
);
CREATE INDEX raffles_undrawn ON raffles (entries_close_at) WHERE drawn_at IS NULL;
CREATE INDEX raffles_claiming ON raffles (drawn_at) WHERE drawn_at IS NOT NULL AND exhausted_at IS NULL;

CREATE TABLE raffle_entries (
    id              BLOB PRIMARY KEY NOT NULL,
    raffle_id       BLOB NOT NULL REFERENCES raffles (subject_id),
    user_id         BLOB NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    -- A trial applicant's motivation, shown to the seller once selected.
    motivation      TEXT,
    entered_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX raffle_entries_one_per_user ON raffle_entries (raffle_id, user_id);
-- The canonical order the draw reads.
CREATE INDEX raffle_entries_canonical ON raffle_entries (raffle_id, id);

CREATE TABLE raffle_places (
    raffle_id   BLOB NOT NULL REFERENCES raffles (subject_id),
    position    INTEGER NOT NULL,
    entry_id    BLOB NOT NULL REFERENCES raffle_entries (id),
    user_id     BLOB NOT NULL REFERENCES users (id),
    offered_at  TEXT,
    claim_until TEXT,
    outcome     TEXT CONSTRAINT raffle_places_outcome_check CHECK (outcome IN ('purchased', 'expired')),
    PRIMARY KEY (raffle_id, position)
);
CREATE UNIQUE INDEX raffle_places_entry ON raffle_places (entry_id);
CREATE INDEX raffle_places_user ON raffle_places (raffle_id, user_id);
-- The places offered and not yet decided, which the sweep revisits.
CREATE INDEX raffle_places_open ON raffle_places (raffle_id, claim_until) WHERE offered_at IS NOT NULL AND outcome IS NULL;
-- A raffle's sweep tells a winner whose purchase was cancelled or lapsed (a released claim) from
-- one who has not bought yet. Only a release writes to it, never a purchase.
CREATE INDEX claims_released ON claims (pool_key, user_id) WHERE released_at IS NOT NULL;
