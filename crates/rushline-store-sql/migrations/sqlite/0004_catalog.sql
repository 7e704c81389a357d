-- Catalog: product images, time sales, the listing indexes and full-text search.

CREATE TABLE product_images (
    id           BLOB PRIMARY KEY NOT NULL,
    product_id   BLOB NOT NULL REFERENCES products (id),
    content_type TEXT NOT NULL CONSTRAINT product_images_content_type_check
                 CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   INTEGER NOT NULL CONSTRAINT product_images_size_check CHECK (size_bytes > 0),
    sha256       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
-- A product's images in upload order; also counts them for the per-product limit.
CREATE INDEX product_images_product ON product_images (product_id, created_at, id);

-- Windows are half-open, [starts_at, ends_at). The store refuses overlaps per product in the
-- statement that inserts (see time_sales_no_overlap in src/catalog.rs).
CREATE TABLE time_sales (
    id         BLOB PRIMARY KEY NOT NULL,
    product_id BLOB NOT NULL REFERENCES products (id),
    price      INTEGER NOT NULL CONSTRAINT time_sales_price_check CHECK (price > 0),
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    created_at TEXT NOT NULL,
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

-- Full-text search over name and description: an FTS5 index whose content is the products table
-- itself (external content), kept in step by triggers. FTS5 addresses rows by integer; the
-- implicit rowid of products is not stable (VACUUM renumbers rowids of tables without an
-- INTEGER PRIMARY KEY), so each product gets a search_rowid of its own.
ALTER TABLE products ADD COLUMN search_rowid INTEGER;
UPDATE products SET search_rowid = rowid;
CREATE UNIQUE INDEX products_search_rowid ON products (search_rowid);

CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, description, content = 'products', content_rowid = 'search_rowid'
);
INSERT INTO products_fts (products_fts) VALUES ('rebuild');

-- Writes are serialised on SQLite, so MAX + 1 cannot hand one number to two products.
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    UPDATE products
    SET search_rowid = (SELECT COALESCE(MAX(search_rowid), 0) + 1 FROM products)
    WHERE id = new.id;
    INSERT INTO products_fts (rowid, name, description)
    SELECT search_rowid, name, description FROM products WHERE id = new.id;
END;

CREATE TRIGGER products_fts_update AFTER UPDATE OF name, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description)
    VALUES ('delete', old.search_rowid, old.name, old.description);
    INSERT INTO products_fts (rowid, name, description)
    VALUES (new.search_rowid, new.name, new.description);
END;

CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description)
    VALUES ('delete', old.search_rowid, old.name, old.description);
END;
