use rushline_store::DbError;

/// SQLite names a violated UNIQUE constraint by its columns, not by the index; this maps those
/// columns to the constraint names the port uses (the PostgreSQL names).
const UNIQUE_NAMES: &[(&str, &str)] = &[
    ("jobs.dedupe_key", "jobs_dedupe_key"),
    ("users.email", "users_email_key"),
    (
        "orders.buyer_id, orders.idempotency_key",
        "orders_idempotency_key",
    ),
    ("order_lines.claim_id", "order_lines_claim_key"),
    ("payments.order_id", "payments_one_live_per_order"),
    ("refresh_tokens.token_hash", "refresh_tokens_token_hash_key"),
    ("coupons.reserved_by_order", "coupons_reserved_by_order"),
    (
        "point_entries.order_id, point_entries.kind",
        "point_entries_once_per_order",
    ),
    (
        "trial_applications.trial_id, trial_applications.buyer_id",
        "trial_applications_one_per_buyer",
    ),
    (
        "reviews.product_id, reviews.buyer_id",
        "reviews_one_per_buyer",
    ),
    ("reviews.application_id", "reviews_application_key"),
    (
        "raffle_entries.raffle_id, raffle_entries.user_id",
        "raffle_entries_one_per_user",
    ),
    ("raffle_places.entry_id", "raffle_places_entry"),
    (
        "settlements.seller_id, settlements.business_day, settlements.revision",
        "settlements_revision_key",
    ),
    (
        "notifications.user_id, notifications.event, notifications.subject",
        "notifications_event_key",
    ),
    (
        "notification_deliveries.notification_id, notification_deliveries.channel",
        "notification_deliveries_channel_key",
    ),
];

/// The name of the UNIQUE constraint over `columns`, as SQLite lists them in its message
/// (`table.a, table.b`); the columns themselves where the table has no name for them.
pub(crate) fn unique_constraint(columns: &str) -> &str {
    UNIQUE_NAMES
        .iter()
        .find(|(cols, _)| *cols == columns)
        .map_or(columns, |(_, name)| name)
}

pub(crate) fn map_err(e: sqlx::Error) -> DbError {
    match e {
        sqlx::Error::RowNotFound => DbError::NotFound,
        sqlx::Error::Database(db) => {
            let message = db.message();
            if let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") {
                return DbError::Conflict {
                    constraint: unique_constraint(columns).to_owned(),
                };
            }
            if let Some(name) = message.strip_prefix("CHECK constraint failed: ") {
                return DbError::Conflict {
                    constraint: name.to_owned(),
                };
            }
            // The primary result code is the low byte of the extended one.
            let primary = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff);
            match primary {
                // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
                Some(5 | 6 | 10 | 13 | 14) => DbError::Unavailable(message.to_owned()),
                _ => DbError::Other(message.to_owned()),
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            DbError::Unavailable(e.to_string())
        }
        other => DbError::Other(other.to_string()),
    }
}
