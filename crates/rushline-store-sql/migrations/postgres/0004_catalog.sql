-- Catalog: product images, time sales, the listing indexes and full-text search.

CREATE TABLE product_images (
    id           UUID PRIMARY KEY,
    product_id   UUID NOT NULL REFERENCES products (id),
    content_type TEXT NOT NULL CONSTRAINT product_images_content_type_check
                 CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   BIGINT NOT NULL CONSTRAINT product_images_size_check CHECK (size_bytes > 0),
    sha256       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
-- A product's images in upload order; also counts them for the per-product limit.
CREATE INDEX product_images_product ON product_images (product_id, created_at, id);

-- Windows are half-open, [starts_at, ends_at). The store refuses overlaps per product in one
-- transaction holding the product's row lock (an exclusion constraint would need btree_gist,
-- an extension a managed database may not offer).
CREATE TABLE time_sales (
    id         UUID PRIMARY KEY,
    product_id UUID NOT NULL REFERENCES products (id),
    price      BIGINT NOT NULL CONSTRAINT time_sales_price_check CHECK (price > 0),
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT time_sales_window_check CHECK (ends_at > starts_at)
);
-- The overlap check (product_id = ? AND ends_at > ?) and the sales not yet ended of a product.
CREATE INDEX time_sales_product ON time_sales (product_id, ends_at);

-- Listings. Every list query has `deleted_at IS NULL`, so the indexes are partial on it; each
-- ends with id, the tie-breaker of every sort, so ORDER BY and the cursor's row comparison both
-- run along the index. Public listings: status = 'active' (+ category). Seller listings
-- (seller_id filter, or a seller's own products in every status): seller_id.
CREATE INDEX products_active_newest ON products (status, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_active_price ON products (status, price, id) WHERE deleted_at IS NULL;
CREATE INDEX products_category_newest ON products (category, status, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_category_price ON products (category, status, price, id) WHERE deleted_at IS NULL;
CREATE INDEX products_seller_newest ON products (seller_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_seller_price ON products (seller_id, price, id) WHERE deleted_at IS NULL;

-- Full-text search over name and description. The 'simple' configuration lowercases words
-- without stemming them, as SQLite's FTS5 does, so that both backends match the same words.
ALTER TABLE products ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || description)) STORED;
CREATE INDEX products_search ON products USING gin (search);
