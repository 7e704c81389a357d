-- Payments, written `pending` before the provider is called so that a charge whose node died
-- mid-call is found and refunded.
CREATE TABLE payments (
    id            UUID PRIMARY KEY,
    order_id      UUID NOT NULL REFERENCES orders (id),
    provider      TEXT NOT NULL,
    amount        BIGINT NOT NULL CONSTRAINT payments_amount_check CHECK (amount >= 0),
    status        TEXT NOT NULL CONSTRAINT payments_status_check CHECK (status IN (
                      'pending', 'approved', 'declined', 'failed', 'refunding', 'refunded')),
    provider_ref  TEXT NOT NULL,
    failure_code  TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
-- At most one live payment per order: paying twice is refused by the database itself.
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id)
    WHERE status IN ('pending', 'approved', 'refunding');
CREATE INDEX payments_order ON payments (order_id, created_at);
CREATE INDEX payments_pending ON payments (created_at) WHERE status = 'pending';
