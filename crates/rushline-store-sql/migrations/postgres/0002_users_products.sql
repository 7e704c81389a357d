CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL CONSTRAINT users_email_key UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CONSTRAINT users_role_check CHECK (role IN ('buyer', 'seller', 'admin')),
    password_hash TEXT NOT NULL,
    verified_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE products (
    id          UUID PRIMARY KEY,
    seller_id   UUID NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    category    TEXT NOT NULL,
    price       BIGINT NOT NULL CONSTRAINT products_price_check CHECK (price > 0),
    stock       BIGINT NOT NULL CONSTRAINT products_stock_check CHECK (stock >= 0),
    status      TEXT NOT NULL CONSTRAINT products_status_check CHECK (status IN ('draft', 'active', 'archived')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ
);
