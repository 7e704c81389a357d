-- Product reviews, and per product the counters their statistics are read from: kept in the
-- transaction of every review write, so a read never scans the reviews.

CREATE TABLE reviews (
    id             BLOB PRIMARY KEY NOT NULL,
    product_id     BLOB NOT NULL REFERENCES products (id),
    buyer_id       BLOB NOT NULL REFERENCES users (id),
    source         TEXT NOT NULL CONSTRAINT reviews_source_check CHECK (source IN ('verified_purchase', 'trial')),
    -- The trial application the review answers, for a trial review.
    application_id BLOB REFERENCES trial_applications (id),
    rating         INTEGER NOT NULL CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5),
    title          TEXT,
    text           TEXT NOT NULL,
    -- Hidden by an admin: out of listings and statistics.
    hidden_at      TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX reviews_one_per_buyer ON reviews (product_id, buyer_id);
CREATE UNIQUE INDEX reviews_application_key ON reviews (application_id);
CREATE INDEX reviews_newest ON reviews (product_id, created_at, id) WHERE hidden_at IS NULL;
CREATE INDEX reviews_by_rating ON reviews (product_id, rating, created_at, id) WHERE hidden_at IS NULL;

CREATE TABLE review_stats (
    product_id   BLOB PRIMARY KEY NOT NULL REFERENCES products (id),
    review_count INTEGER NOT NULL,
    rating_sum   INTEGER NOT NULL,
    stars_1      INTEGER NOT NULL,
    stars_2      INTEGER NOT NULL,
    stars_3      INTEGER NOT NULL,
    stars_4      INTEGER NOT NULL,
    stars_5      INTEGER NOT NULL,
    CONSTRAINT review_stats_counts_check CHECK (
        stars_1 >= 0 AND stars_2 >= 0 AND stars_3 >= 0 AND stars_4 >= 0 AND stars_5 >= 0
        AND review_count = stars_1 + stars_2 + stars_3 + stars_4 + stars_5
        AND rating_sum = stars_1 + 2 * stars_2 + 3 * stars_3 + 4 * stars_4 + 5 * stars_5)
);
