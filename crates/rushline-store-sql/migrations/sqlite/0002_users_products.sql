CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL CONSTRAINT users_email_key UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CONSTRAINT users_role_check CHECK (role IN ('buyer', 'seller', 'admin')),
    password_hash TEXT NOT NULL,
    verified_at   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE products (
    id          BLOB PRIMARY KEY NOT NULL,
    seller_id   BLOB NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    category    TEXT NOT NULL,
    price       INTEGER NOT NULL CONSTRAINT products_price_check CHECK (price > 0),
    stock       INTEGER NOT NULL CONSTRAINT products_stock_check CHECK (stock >= 0),
    status      TEXT NOT NULL CONSTRAINT products_status_check CHECK (status IN ('draft', 'active', 'archived')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
