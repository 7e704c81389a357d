-- Each buyer's cart: one line per product, its quantity merged on every add.
CREATE TABLE cart_items (
    user_id    BLOB NOT NULL REFERENCES users (id),
    product_id BLOB NOT NULL REFERENCES products (id),
    quantity   INTEGER NOT NULL CONSTRAINT cart_items_quantity_check CHECK (quantity BETWEEN 1 AND 999),
    added_at   TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, product_id)
);
