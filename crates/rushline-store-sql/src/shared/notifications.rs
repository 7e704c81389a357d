use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::notification::{Channel, Group, Locale, Params};
use rushline_store::{
    Attempt, Audience, DbError, Delivery, DeliveryStatus, FanOut, Notification, NotificationStore,
    Opening, Outgoing, WISHLIST_FULL, Wish,
};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{
    Db, DbRow, FAN_OUT_RESTS, NEW_UUID, SKIP_LOCKED, SqlStore, map_err, parse_column, push_one_of,
};

const COLUMNS: &str = "id, user_id, event, subject, params, created_at, read_at";

fn notification_from_row(row: &DbRow) -> Result<Notification, DbError> {
    let Json(params) = row.try_get::<Json<Params>, _>("params").map_err(map_err)?;
    Ok(Notification {
        id: row.try_get("id").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        event: parse_column(row, "event")?,
        subject: row.try_get("subject").map_err(map_err)?,
        params,
        created_at: row.try_get("created_at").map_err(map_err)?,
        read_at: row.try_get("read_at").map_err(map_err)?,
    })
}

fn delivery_from_row(row: &DbRow) -> Result<Delivery, DbError> {
    Ok(Delivery {
        id: row.try_get("id").map_err(map_err)?,
        notification_id: row.try_get("notification_id").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        event: parse_column(row, "event")?,
        channel: parse_column(row, "channel")?,
        status: parse_column(row, "status")?,
        attempts: row.try_get("attempts").map_err(map_err)?,
        last_error: row.try_get("last_error").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

fn outgoing_from_row(row: &DbRow) -> Result<Outgoing, DbError> {
    let Json(params) = row.try_get::<Json<Params>, _>("params").map_err(map_err)?;
    Ok(Outgoing {
        id: row.try_get("id").map_err(map_err)?,
        channel: parse_column(row, "channel")?,
        attempt: row.try_get("attempts").map_err(map_err)?,
        event: parse_column(row, "event")?,
        params,
        email: row.try_get("email").map_err(map_err)?,
        locale: parse_column(row, "locale")?,
        webhook_url: row.try_get("webhook_url").map_err(map_err)?,
    })
}

fn opening_from_row(row: &DbRow) -> Result<Opening, DbError> {
    Ok(Opening {
        id: row.try_get("id").map_err(map_err)?,
        product_id: row.try_get("product_id").map_err(map_err)?,
        product_name: row.try_get("name").map_err(map_err)?,
        price: row.try_get("price").map_err(map_err)?,
        starts_at: row.try_get("starts_at").map_err(map_err)?,
        ends_at: row.try_get("ends_at").map_err(map_err)?,
    })
}

/// Recipients written per transaction of a fan-out: each holds the writer (SQLite's one) only
/// briefly, so purchases commit between batches (and, on SQLite, while the fan-out rests).
const FAN_OUT_BATCH: u16 = 1_000;

/// Where a fan-out has got to in its audience's order.
#[derive(Debug, Clone, Copy)]
enum After {
    Start,
    User(Uuid),
    Position(i64),
}

/// The next page of `audience` after `after`, in an order an index serves (a wishlist by user, a
/// raffle by position), and where the page ends.
async fn audience_page(
    store: &SqlStore,
    audience: Audience,
    after: After,
) -> Result<(Vec<Uuid>, After), DbError> {
    let (mut query, by_position) = match audience {
        Audience::User { id } => {
            if !matches!(after, After::Start) {
                return Ok((Vec::new(), after));
            }
            let mut query = QueryBuilder::<Db>::new("SELECT id AS user_id FROM users WHERE id = ");
            query.push_bind(id);
            (query, false)
        }
        Audience::Wishers { product } => {
            let mut query =
                QueryBuilder::<Db>::new("SELECT user_id FROM wishlist WHERE product_id = ");
            query.push_bind(product);
            (query, false)
        }
        Audience::RaffleOffered { raffle, at } => {
            let mut query = QueryBuilder::<Db>::new(
                "SELECT position, user_id FROM raffle_places WHERE raffle_id = ",
            );
            query
                .push_bind(raffle)
                .push(" AND offered_at = ")
                .push_bind(at);
            (query, true)
        }
        Audience::RaffleLosers { raffle } => {
            let mut query = QueryBuilder::<Db>::new(
                "SELECT position, user_id FROM raffle_places WHERE offered_at IS NULL AND raffle_id = ",
            );
            query.push_bind(raffle);
            (query, true)
        }
    };
    match after {
        After::Start => {}
        After::User(id) => {
            query.push(" AND user_id > ").push_bind(id);
        }
        After::Position(position) => {
            query.push(" AND position > ").push_bind(position);
        }
    }
    query
        .push(if by_position {
            " ORDER BY position LIMIT "
        } else {
            " ORDER BY user_id LIMIT "
        })
        .push_bind(i64::from(FAN_OUT_BATCH));
    let rows = query
        .build()
        .fetch_all(store.reader())
        .await
        .map_err(map_err)?;
    let users = rows
        .iter()
        .map(|row| row.try_get::<Uuid, _>("user_id").map_err(map_err))
        .collect::<Result<Vec<_>, _>>()?;
    let end = match (rows.last(), by_position) {
        (None, _) => after,
        (Some(row), true) => After::Position(row.try_get("position").map_err(map_err)?),
        (Some(_), false) => users.last().map_or(after, |id| After::User(*id)),
    };
    Ok((users, end))
}

/// The deliveries on `channel` of the notifications a fan-out batch wrote to `users` at `now`, for
/// recipients who did not mute the group there (and, for Slack, set a webhook).
fn push_deliveries(
    query: &mut QueryBuilder<'_, Db>,
    fan_out: &FanOut,
    channel: Channel,
    users: &[Uuid],
    now: DateTime<Utc>,
) {
    query
        .push(format!(
            "INSERT INTO notification_deliveries (id, notification_id, channel, due_at, created_at, updated_at) \
             SELECT {NEW_UUID}, n.id, '{channel}', "
        ))
        .push_bind(now)
        .push(", ")
        .push_bind(now)
        .push(", ")
        .push_bind(now)
        .push(" FROM notifications n WHERE n.event = ")
        .push_bind(fan_out.event.as_str())
        .push(" AND n.subject = ")
        .push_bind(fan_out.subject.clone())
        .push(" AND n.created_at = ")
        .push_bind(now)
        .push(" AND ");
    push_one_of(query, "n.user_id", users);
    query
        .push(format!(
            " AND NOT EXISTS (SELECT 1 FROM notification_mutes m WHERE m.user_id = n.user_id \
             AND m.channel = '{channel}' AND m.grp = "
        ))
        .push_bind(fan_out.event.group().as_str())
        .push(")");
    if channel == Channel::Slack {
        query.push(" AND EXISTS (SELECT 1 FROM slack_webhooks w WHERE w.user_id = n.user_id)");
    }
    query.push(" ON CONFLICT DO NOTHING");
}

#[async_trait]
impl NotificationStore for SqlStore {
    async fn fan_out(&self, fan_out: &FanOut, now: DateTime<Utc>) -> Result<u64, DbError> {
        let mut written = 0;
        let mut after = After::Start;
        loop {
            let (users, end) = audience_page(self, fan_out.audience, after).await?;
            if users.is_empty() {
                return Ok(written);
            }
            after = end;
            let mut tx = self.writer().begin().await.map_err(map_err)?;
            let held = Instant::now();
            let mut insert = QueryBuilder::<Db>::new(format!(
                "INSERT INTO notifications (id, user_id, event, subject, params, created_at) \
                 SELECT {NEW_UUID}, u.id, "
            ));
            insert
                .push_bind(fan_out.event.as_str())
                .push(", ")
                .push_bind(fan_out.subject.clone())
                .push(", ")
                .push_bind(Json(fan_out.params.clone()))
                .push(", ")
                .push_bind(now)
                .push(" FROM users u WHERE ");
            push_one_of(&mut insert, "u.id", &users);
            insert.push(" ON CONFLICT (user_id, event, subject) DO NOTHING");
            let batch = insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            if batch > 0 {
                for channel in [Channel::Email, Channel::Slack] {
                    let mut deliveries = QueryBuilder::<Db>::new("");
                    push_deliveries(&mut deliveries, fan_out, channel, &users, now);
                    deliveries
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
            }
            tx.commit().await.map_err(map_err)?;
            written += batch;
            // A short page is the last: no rest, and no query for an empty one.
            if users.len() < usize::from(FAN_OUT_BATCH) {
                return Ok(written);
            }
            if FAN_OUT_RESTS {
                tokio::time::sleep(held.elapsed()).await;
            }
        }
    }

    async fn inbox(
        &self,
        user: Uuid,
        unread_only: bool,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Notification>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = "
        ));
        query.push_bind(user);
        if unread_only {
            query.push(" AND read_at IS NULL");
        }
        if let Some((at, id)) = after {
            query
                .push(" AND (created_at, id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        query
            .push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(notification_from_row).collect()
    }

    async fn inbox_since(
        &self,
        user: Uuid,
        (at, id): (DateTime<Utc>, Uuid),
        limit: u32,
    ) -> Result<Vec<Notification>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND (created_at, id) > ($2, $3) \
             ORDER BY created_at, id LIMIT $4"
        ))
        .bind(user)
        .bind(at)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(notification_from_row).collect()
    }

    async fn mark_read(&self, user: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbError> {
        let found = sqlx::query(
            "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user)
        .bind(now)
        .execute(self.writer())
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(found == 1)
    }

    async fn mark_all_read(&self, user: Uuid, now: DateTime<Utc>) -> Result<u64, DbError> {
        Ok(sqlx::query(
            "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user)
        .bind(now)
        .execute(self.writer())
        .await
        .map_err(map_err)?
        .rows_affected())
    }

    async fn unread_count(&self, user: Uuid) -> Result<u64, DbError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn mutes(&self, user: Uuid) -> Result<Vec<(Group, Channel)>, DbError> {
        let rows = sqlx::query(
            "SELECT grp, channel FROM notification_mutes WHERE user_id = $1 ORDER BY grp, channel",
        )
        .bind(user)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| Ok((parse_column(row, "grp")?, parse_column(row, "channel")?)))
            .collect()
    }

    async fn set_preferences(
        &self,
        user: Uuid,
        channels: &[(Group, Channel, bool)],
        locale: Option<Locale>,
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        for &(group, channel, on) in channels {
            let statement = if on {
                "DELETE FROM notification_mutes WHERE user_id = $1 AND grp = $2 AND channel = $3"
            } else {
                "INSERT INTO notification_mutes (user_id, grp, channel) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING"
            };
            sqlx::query(statement)
                .bind(user)
                .bind(group.as_str())
                .bind(channel.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if let Some(locale) = locale {
            sqlx::query("UPDATE users SET locale = $2 WHERE id = $1")
                .bind(user)
                .bind(locale.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn locale(&self, user: Uuid) -> Result<Locale, DbError> {
        let row = sqlx::query("SELECT locale FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        parse_column(&row, "locale")
    }

    async fn set_slack_webhook(
        &self,
        user: Uuid,
        url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let query = match url {
            Some(url) => sqlx::query(
                "INSERT INTO slack_webhooks (user_id, url, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at",
            )
            .bind(user)
            .bind(url)
            .bind(now),
            None => sqlx::query("DELETE FROM slack_webhooks WHERE user_id = $1").bind(user),
        };
        query.execute(self.writer()).await.map_err(map_err)?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        max_attempts: i32,
        limit: u32,
    ) -> Result<Vec<Outgoing>, DbError> {
        sqlx::query(
            "UPDATE notification_deliveries SET status = 'failed', updated_at = $1, \
             last_error = 'no outcome recorded in ' || attempts || ' attempts' \
             WHERE status = 'pending' AND due_at <= $1 AND attempts >= $2",
        )
        .bind(now)
        .bind(max_attempts)
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        let claimed: Vec<Uuid> = sqlx::query_scalar(&format!(
            "UPDATE notification_deliveries SET attempts = attempts + 1, due_at = $2, updated_at = $1 \
             WHERE id IN (SELECT id FROM notification_deliveries \
             WHERE status = 'pending' AND due_at <= $1 AND attempts < $3 \
             ORDER BY due_at LIMIT $4{SKIP_LOCKED}) RETURNING id"
        ))
        .bind(now)
        .bind(now + lease)
        .bind(max_attempts)
        .bind(i64::from(limit))
        .fetch_all(self.writer())
        .await
        .map_err(map_err)?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Db>::new(
            "SELECT d.id, d.channel, d.attempts, n.event, n.params, u.email, u.locale, \
             w.url AS webhook_url FROM notification_deliveries d \
             JOIN notifications n ON n.id = d.notification_id JOIN users u ON u.id = n.user_id \
             LEFT JOIN slack_webhooks w ON w.user_id = n.user_id WHERE ",
        );
        push_one_of(&mut query, "d.id", &claimed);
        // From the writer: the claim just committed there.
        let rows = query
            .build()
            .fetch_all(self.writer())
            .await
            .map_err(map_err)?;
        rows.iter().map(outgoing_from_row).collect()
    }

    async fn record_attempt(
        &self,
        id: Uuid,
        attempt: i32,
        outcome: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let (status, due_at, error, uncounted) = match outcome {
            Attempt::Sent => (DeliveryStatus::Sent, None, None, 0),
            Attempt::Retry { at, error } => (DeliveryStatus::Pending, Some(*at), Some(error), 0),
            Attempt::Failed { error } => (DeliveryStatus::Failed, None, Some(error), 0),
            Attempt::Postponed { at } => (DeliveryStatus::Pending, Some(*at), None, 1),
        };
        let recorded = sqlx::query(
            "UPDATE notification_deliveries SET status = $3, due_at = COALESCE($4, due_at), \
             last_error = COALESCE($5, last_error), attempts = attempts - $7, updated_at = $6 \
             WHERE id = $1 AND attempts = $2 AND status = 'pending'",
        )
        .bind(id)
        .bind(attempt)
        .bind(status.as_str())
        .bind(due_at)
        .bind(error)
        .bind(now)
        .bind(uncounted)
        .execute(self.writer())
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(recorded == 1)
    }

    async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Delivery>, DbError> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT d.id, d.notification_id, n.user_id, n.event, d.channel, d.status, d.attempts, \
             d.last_error, d.created_at, d.updated_at FROM notification_deliveries d \
             JOIN notifications n ON n.id = d.notification_id WHERE true",
        );
        if let Some(status) = status {
            query.push(" AND d.status = ").push_bind(status.as_str());
        }
        if let Some((at, id)) = after {
            query
                .push(" AND (d.updated_at, d.id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        query
            .push(" ORDER BY d.updated_at DESC, d.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn pending_deliveries(&self) -> Result<u64, DbError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notification_deliveries WHERE status = 'pending'",
        )
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn purge_notifications(&self, before: DateTime<Utc>) -> Result<u64, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        sqlx::query(
            "DELETE FROM notification_deliveries WHERE notification_id IN \
             (SELECT id FROM notifications WHERE created_at < $1)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let purged = sqlx::query("DELETE FROM notifications WHERE created_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        tx.commit().await.map_err(map_err)?;
        Ok(purged)
    }

    async fn drops_opening(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Opening>, DbError> {
        let rows = sqlx::query(
            "SELECT d.id, d.product_id, p.name, d.price, d.opens_at AS starts_at, \
             d.closes_at AS ends_at FROM drops d JOIN products p ON p.id = d.product_id \
             WHERE d.opens_at > $1 AND d.opens_at <= $2",
        )
        .bind(after)
        .bind(until)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(opening_from_row).collect()
    }

    async fn sales_starting(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Opening>, DbError> {
        let rows = sqlx::query(
            "SELECT s.id, s.product_id, p.name, s.price, s.starts_at, s.ends_at \
             FROM time_sales s JOIN products p ON p.id = s.product_id \
             WHERE s.starts_at > $1 AND s.starts_at <= $2",
        )
        .bind(after)
        .bind(until)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(opening_from_row).collect()
    }

    async fn wish(
        &self,
        user: Uuid,
        product: Uuid,
        max: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let on_sale: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM products WHERE id = $1 AND status = 'active' \
             AND deleted_at IS NULL)",
        )
        .bind(product)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if !on_sale {
            return Err(DbError::NotFound);
        }
        let there: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM wishlist WHERE user_id = $1 AND product_id = $2)",
        )
        .bind(user)
        .bind(product)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if there {
            return Ok(false);
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wishlist WHERE user_id = $1")
            .bind(user)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if count >= i64::from(max) {
            return Err(DbError::Conflict {
                constraint: WISHLIST_FULL.to_owned(),
            });
        }
        sqlx::query("INSERT INTO wishlist (user_id, product_id, created_at) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(product)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn wishlist_has(&self, user: Uuid, product: Uuid) -> Result<bool, DbError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM wishlist WHERE user_id = $1 AND product_id = $2)",
        )
        .bind(user)
        .bind(product)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)
    }

    async fn unwish(&self, user: Uuid, product: Uuid) -> Result<bool, DbError> {
        let removed = sqlx::query("DELETE FROM wishlist WHERE user_id = $1 AND product_id = $2")
            .bind(user)
            .bind(product)
            .execute(self.writer())
            .await
            .map_err(map_err)?
            .rows_affected();
        Ok(removed == 1)
    }

    async fn wishlist(
        &self,
        user: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Wish>, DbError> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT w.product_id, p.name, p.price, w.created_at FROM wishlist w \
             JOIN products p ON p.id = w.product_id \
             WHERE p.status = 'active' AND p.deleted_at IS NULL AND w.user_id = ",
        );
        query.push_bind(user);
        if let Some((at, id)) = after {
            query
                .push(" AND (w.created_at, w.product_id) < (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        query
            .push(" ORDER BY w.created_at DESC, w.product_id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(Wish {
                    product_id: row.try_get("product_id").map_err(map_err)?,
                    product_name: row.try_get("name").map_err(map_err)?,
                    price: row.try_get("price").map_err(map_err)?,
                    created_at: row.try_get("created_at").map_err(map_err)?,
                })
            })
            .collect()
    }
}
