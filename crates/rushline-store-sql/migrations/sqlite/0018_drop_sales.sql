-- A drop's sale as it ended, rolled up from its claims once, a minute after the drop closed (when
-- grants in flight at the close have committed), so that a statistics request reads a row per
-- drop instead of every claim of every drop.
CREATE TABLE drop_sales (
    drop_id         BLOB PRIMARY KEY NOT NULL REFERENCES drops (id),
    -- Units held by orders at the roll-up.
    units_sold      BIGINT NOT NULL,
    -- When the last of those units was granted.
    last_grant_at   TEXT,
    -- The most of those units' claims granted within one second.
    peak_per_second BIGINT NOT NULL,
    rolled_up_at    TEXT NOT NULL
);
