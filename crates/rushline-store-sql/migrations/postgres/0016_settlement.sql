-- Settlements: what each seller is owed for each business day, written once per (seller, day,
-- revision) by one set-based run and never rewritten. Revision 1 is the day's first run; an order
-- of that day settled by a later run (its completion was recorded late) goes into the next
-- revision, a correction, so a settlement once written (and paid) never changes.

CREATE TABLE settlements (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id         UUID NOT NULL REFERENCES users (id),
    business_day      DATE NOT NULL,
    revision          INTEGER NOT NULL CONSTRAINT settlements_revision_check CHECK (revision >= 1),
    -- The sums of the settlement's lines, each column of its own.
    orders            BIGINT NOT NULL,
    gross             BIGINT NOT NULL,
    seller_discount   BIGINT NOT NULL,
    platform_discount BIGINT NOT NULL,
    points            BIGINT NOT NULL,
    platform_fee      BIGINT NOT NULL,
    payment_fee       BIGINT NOT NULL,
    net               BIGINT NOT NULL,
    -- The rates the run applied, in millionths.
    platform_fee_ppm  BIGINT NOT NULL,
    payment_fee_ppm   BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    paid_at           TIMESTAMPTZ,
    CONSTRAINT settlements_revision_key UNIQUE (seller_id, business_day, revision),
    CONSTRAINT settlements_net_check CHECK (
        net = gross - seller_discount - platform_fee - payment_fee)
);
CREATE INDEX settlements_day ON settlements (business_day, seller_id);

-- One line per order and seller: the seller's part of the order. Its primary key is what makes a
-- rerun settle nothing twice. It belongs to the settlement of its (seller_id, business_day,
-- revision), written after its lines in the same transaction (the settlement sums them); no
-- foreign key says so, as checking one per line at commit cost a run a third of its time.
CREATE TABLE settlement_lines (
    seller_id         UUID NOT NULL,
    order_id          UUID NOT NULL REFERENCES orders (id),
    business_day      DATE NOT NULL,
    revision          INTEGER NOT NULL,
    completed_at      TIMESTAMPTZ NOT NULL,
    gross             BIGINT NOT NULL,
    seller_discount   BIGINT NOT NULL,
    platform_discount BIGINT NOT NULL,
    points            BIGINT NOT NULL,
    platform_fee      BIGINT NOT NULL,
    payment_fee       BIGINT NOT NULL,
    net               BIGINT NOT NULL,
    PRIMARY KEY (seller_id, order_id)
);
CREATE INDEX settlement_lines_settlement ON settlement_lines (business_day, seller_id, revision, order_id);

-- Seller statistics per business day, rolled up once a day (and again on later runs of the day)
-- by one set-based statement over the day's orders, so a statistics request reads one row per
-- day instead of the orders. Placed orders exclude holds that expired unpaid.
CREATE TABLE seller_daily_stats (
    seller_id    UUID NOT NULL REFERENCES users (id),
    business_day DATE NOT NULL,
    orders       BIGINT NOT NULL,
    units        BIGINT NOT NULL,
    gross        BIGINT NOT NULL,
    -- Of the orders placed that day, those cancelled since.
    cancelled    BIGINT NOT NULL,
    -- Orders returned that day (whenever placed).
    returned     BIGINT NOT NULL,
    rolled_up_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (seller_id, business_day)
);
