-- Drops, the pools of limited stock behind them, the claims on those pools, and orders.

CREATE TABLE drops (
    id             BLOB PRIMARY KEY NOT NULL,
    product_id     BLOB NOT NULL REFERENCES products (id),
    seller_id      BLOB NOT NULL REFERENCES users (id),
    quantity       INTEGER NOT NULL CONSTRAINT drops_quantity_check CHECK (quantity BETWEEN 1 AND 10000000),
    price          INTEGER NOT NULL CONSTRAINT drops_price_check CHECK (price > 0),
    opens_at       TEXT NOT NULL,
    closes_at      TEXT NOT NULL,
    per_user_limit INTEGER NOT NULL CONSTRAINT drops_per_user_limit_check CHECK (per_user_limit >= 1),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    opened_at      TEXT,
    closed_at      TEXT,
    CONSTRAINT drops_window_check CHECK (opens_at < closes_at)
);
CREATE INDEX drops_opens_at ON drops (opens_at, id);
CREATE INDEX drops_seller ON drops (seller_id, opens_at, id);
-- The scheduler's sweeps: drops not yet seen opening, or closing.
CREATE INDEX drops_to_open ON drops (opens_at) WHERE opened_at IS NULL;
CREATE INDEX drops_to_close ON drops (closes_at) WHERE closed_at IS NULL;

-- A pool: any limited thing the gate hands out. `held` counts units of active claims and can
-- never exceed `total`: the database refuses a grant the gate made by mistake.
CREATE TABLE pools (
    key            TEXT PRIMARY KEY NOT NULL,
    total          INTEGER NOT NULL CONSTRAINT pools_total_check CHECK (total >= 0),
    per_user_limit INTEGER NOT NULL CONSTRAINT pools_per_user_limit_check CHECK (per_user_limit >= 1),
    held           INTEGER NOT NULL DEFAULT 0,
    last_seq       INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT pools_held_check CHECK (held >= 0 AND held <= total)
);

CREATE TABLE claims (
    id          BLOB PRIMARY KEY NOT NULL,
    pool_key    TEXT NOT NULL REFERENCES pools (key),
    user_id     BLOB NOT NULL REFERENCES users (id),
    qty         INTEGER NOT NULL CONSTRAINT claims_qty_check CHECK (qty > 0),
    seq         INTEGER NOT NULL,
    fingerprint INTEGER NOT NULL,
    claimed_at  TEXT NOT NULL,
    released_at TEXT
);
-- Per-user limits and gate rebuilds read the active claims of a pool.
CREATE INDEX claims_active ON claims (pool_key, user_id) WHERE released_at IS NULL;

CREATE TABLE orders (
    id              BLOB PRIMARY KEY NOT NULL,
    buyer_id        BLOB NOT NULL REFERENCES users (id),
    status          TEXT NOT NULL CONSTRAINT orders_status_check CHECK (status IN (
                        'pending_payment', 'paid', 'shipping', 'delivered', 'completed',
                        'cancelled', 'expired', 'return_requested', 'returned')),
    idempotency_key TEXT NOT NULL,
    total           INTEGER NOT NULL CONSTRAINT orders_total_check CHECK (total >= 0),
    hold_expires_at TEXT NOT NULL,
    -- When the status last changed: the lifecycle jobs find due orders by it.
    status_changed_at TEXT NOT NULL,
    return_reason   TEXT,
    return_note     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT orders_idempotency_key UNIQUE (buyer_id, idempotency_key)
);
CREATE INDEX orders_buyer ON orders (buyer_id, created_at);
CREATE INDEX orders_status_hold ON orders (status, hold_expires_at);
CREATE INDEX orders_status_changed ON orders (status, status_changed_at);
CREATE INDEX orders_created ON orders (created_at, id);

CREATE TABLE order_lines (
    order_id   BLOB NOT NULL REFERENCES orders (id),
    line_no    INTEGER NOT NULL,
    product_id BLOB NOT NULL REFERENCES products (id),
    drop_id    BLOB REFERENCES drops (id),
    qty        INTEGER NOT NULL CONSTRAINT order_lines_qty_check CHECK (qty > 0),
    unit_price INTEGER NOT NULL CONSTRAINT order_lines_unit_price_check CHECK (unit_price >= 0),
    claim_id   BLOB NOT NULL CONSTRAINT order_lines_claim_key UNIQUE REFERENCES claims (id),
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_lines_drop ON order_lines (drop_id) WHERE drop_id IS NOT NULL;
CREATE INDEX order_lines_product ON order_lines (product_id);

-- Every status an order took: when, and why.
CREATE TABLE order_events (
    id       INTEGER PRIMARY KEY,
    order_id BLOB NOT NULL REFERENCES orders (id),
    at       TEXT NOT NULL,
    status   TEXT NOT NULL,
    cause    TEXT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);
