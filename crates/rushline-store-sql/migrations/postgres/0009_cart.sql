-- Each buyer's cart: one line per product, its quantity merged on every add.
CREATE TABLE cart_items (
    user_id    UUID NOT NULL REFERENCES users (id),
    product_id UUID NOT NULL REFERENCES products (id),
    quantity   INTEGER NOT NULL CONSTRAINT cart_items_quantity_check CHECK (quantity BETWEEN 1 AND 999),
    added_at   TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, product_id)
);
