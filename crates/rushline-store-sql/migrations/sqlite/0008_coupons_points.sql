-- Coupon campaigns (each with a pool `coupon:<id>`), the coupons in buyers' wallets, the points
-- ledger with each buyer's balance, and what an order redeemed of both.

CREATE TABLE coupon_campaigns (
    id                  BLOB PRIMARY KEY NOT NULL,
    owner_id            BLOB NOT NULL REFERENCES users (id),
    name                TEXT NOT NULL,
    total               INTEGER NOT NULL CONSTRAINT coupon_campaigns_total_check CHECK (total BETWEEN 1 AND 10000000),
    per_user_limit      INTEGER NOT NULL CONSTRAINT coupon_campaigns_per_user_limit_check CHECK (per_user_limit >= 1),
    claim_starts_at     TEXT NOT NULL,
    claim_ends_at       TEXT NOT NULL,
    valid_from          TEXT NOT NULL,
    valid_until         TEXT NOT NULL,
    -- `fixed`: discount_amount won off; `percent`: discount_percent off, at most discount_amount.
    discount_kind       TEXT NOT NULL,
    discount_amount     INTEGER NOT NULL CONSTRAINT coupon_campaigns_discount_amount_check CHECK (discount_amount >= 1),
    discount_percent    INTEGER,
    min_order_amount    INTEGER NOT NULL CONSTRAINT coupon_campaigns_min_order_amount_check CHECK (min_order_amount >= 0),
    -- `store`, `seller` (scope_id is the seller) or `product` (scope_id is the product).
    scope_kind          TEXT NOT NULL,
    scope_id            BLOB,
    created_at          TEXT NOT NULL,
    CONSTRAINT coupon_campaigns_claim_window_check CHECK (claim_starts_at < claim_ends_at),
    CONSTRAINT coupon_campaigns_validity_check CHECK (valid_from < valid_until),
    CONSTRAINT coupon_campaigns_discount_check CHECK (
        (discount_kind = 'fixed' AND discount_percent IS NULL)
        OR (discount_kind = 'percent' AND discount_percent BETWEEN 1 AND 100)
    ),
    CONSTRAINT coupon_campaigns_scope_check CHECK (
        (scope_kind = 'store' AND scope_id IS NULL)
        OR (scope_kind IN ('seller', 'product') AND scope_id IS NOT NULL)
    )
);
CREATE INDEX coupon_campaigns_claim_starts ON coupon_campaigns (claim_starts_at, id);
CREATE INDEX coupon_campaigns_owner ON coupon_campaigns (owner_id, claim_starts_at, id);

CREATE TABLE coupons (
    id                BLOB PRIMARY KEY NOT NULL,
    campaign_id       BLOB NOT NULL REFERENCES coupon_campaigns (id),
    user_id           BLOB NOT NULL REFERENCES users (id),
    status            TEXT NOT NULL CONSTRAINT coupons_status_check CHECK (status IN (
                          'available', 'reserved', 'used', 'expired')),
    valid_from        TEXT NOT NULL,
    valid_until       TEXT NOT NULL,
    reserved_by_order BLOB REFERENCES orders (id),
    claimed_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CONSTRAINT coupons_reserved_check CHECK ((status IN ('reserved', 'used')) = (reserved_by_order IS NOT NULL))
);
-- The wallet, newest first; an order's transitions find its coupon by the order.
CREATE INDEX coupons_user ON coupons (user_id, claimed_at, id);
CREATE UNIQUE INDEX coupons_reserved_by_order ON coupons (reserved_by_order) WHERE reserved_by_order IS NOT NULL;

-- One row per ledger entry. An order earns, spends and is refunded at most once each.
CREATE TABLE point_entries (
    id         INTEGER PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    order_id   BLOB REFERENCES orders (id),
    created_at TEXT NOT NULL,
    CONSTRAINT point_entries_kind_check CHECK (
        (kind IN ('earn', 'refund') AND amount > 0)
        OR (kind IN ('spend', 'expire') AND amount < 0)
    )
);
CREATE INDEX point_entries_user ON point_entries (user_id, id);
CREATE UNIQUE INDEX point_entries_once_per_order ON point_entries (order_id, kind) WHERE order_id IS NOT NULL;

-- The sum of each buyer's entries, written with every entry. Its row is what concurrent
-- checkouts of one buyer serialise on, and the CHECK is the last word on a negative balance.
CREATE TABLE point_balances (
    user_id BLOB PRIMARY KEY NOT NULL REFERENCES users (id),
    balance INTEGER NOT NULL CONSTRAINT point_balances_balance_check CHECK (balance >= 0)
);

ALTER TABLE orders ADD COLUMN coupon_id BLOB REFERENCES coupons (id);
ALTER TABLE orders ADD COLUMN discount INTEGER NOT NULL DEFAULT 0
    CONSTRAINT orders_discount_check CHECK (discount >= 0);
ALTER TABLE orders ADD COLUMN points_spent INTEGER NOT NULL DEFAULT 0
    CONSTRAINT orders_points_spent_check CHECK (points_spent >= 0);
