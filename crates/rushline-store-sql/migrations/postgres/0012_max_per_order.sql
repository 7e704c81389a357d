-- Units of a product one order may hold (regular stock has no per-buyer limit, so without it
-- one checkout could take all of it): 10 unless the seller says otherwise.
ALTER TABLE products ADD COLUMN max_per_order INTEGER NOT NULL DEFAULT 10
    CONSTRAINT products_max_per_order_check CHECK (max_per_order BETWEEN 1 AND 1000);
