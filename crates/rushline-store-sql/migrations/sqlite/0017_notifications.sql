-- Notifications and wishlists. An event becomes one `notify` job in the transaction that causes
-- it (the outbox); that job writes one inbox row per recipient, set-based, and one delivery per
-- further channel the recipient has not muted. Deliveries are sent and retried by a periodic job.

ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en'
    CONSTRAINT users_locale_check CHECK (locale IN ('en', 'ko'));

-- The inbox. One row per (recipient, event, subject), which makes a second fan-out of the same
-- event a no-op.
CREATE TABLE notifications (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id),
    event      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    -- What the templates fill in, rendered in the reader's locale when read or sent.
    params     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT,
    CONSTRAINT notifications_event_key UNIQUE (user_id, event, subject)
);
CREATE INDEX notifications_inbox ON notifications (user_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_created ON notifications (created_at);

-- One message per (notification, channel): its id is the message id a receiver can deduplicate
-- on. While pending, `due_at` is when it may be tried next; a claim moves it to the end of the
-- claim's lease, so a sender that dies mid-send leaves it due again once the lease is over.
CREATE TABLE notification_deliveries (
    id              BLOB PRIMARY KEY NOT NULL,
    notification_id BLOB NOT NULL REFERENCES notifications (id),
    channel         TEXT NOT NULL
                    CONSTRAINT notification_deliveries_channel_check CHECK (channel IN ('email', 'slack')),
    status          TEXT NOT NULL DEFAULT 'pending'
                    CONSTRAINT notification_deliveries_status_check CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT notification_deliveries_channel_key UNIQUE (notification_id, channel)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (due_at) WHERE status = 'pending';
CREATE INDEX notification_deliveries_status ON notification_deliveries (status, updated_at, id);

-- A row turns a group off on a channel for its user; every other pair is on.
CREATE TABLE notification_mutes (
    user_id BLOB NOT NULL REFERENCES users (id),
    grp     TEXT NOT NULL,
    channel TEXT NOT NULL,
    PRIMARY KEY (user_id, grp, channel)
);

CREATE TABLE slack_webhooks (
    user_id    BLOB PRIMARY KEY NOT NULL REFERENCES users (id),
    url        TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE wishlist (
    user_id    BLOB NOT NULL REFERENCES users (id),
    product_id BLOB NOT NULL REFERENCES products (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, product_id)
);
-- A product's wishers, in the order a fan-out pages through them.
CREATE INDEX wishlist_product ON wishlist (product_id, user_id);

-- The wishlist alert of a time sale when it starts.
CREATE INDEX time_sales_starts ON time_sales (starts_at);

-- The entrants one sweep of a raffle offered places, whom a fan-out pages through in order.
-- Partial: the draw writes places unoffered, so it pays nothing for it; only offers do.
CREATE INDEX raffle_places_offered ON raffle_places (raffle_id, offered_at, position)
    WHERE offered_at IS NOT NULL;
