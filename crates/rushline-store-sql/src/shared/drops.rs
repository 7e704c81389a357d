use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::raffle::Seed;
use rushline_store::{
    DROP_NOT_SCHEDULED, DbError, DropFilter, DropStore, NewJob, ProductDrop, RaffleKind,
    WaitingRoomSettings,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::jobs::insert_jobs;
use super::raffles::{RAFFLE_COLUMNS, insert_raffle, raffle_from_row};
use super::{
    Db, DbRow, SqlStore, conflict_or_missing, delete_scheduled, map_err, push_opening, push_window,
};

const COLUMNS: &str = "id, product_id, seller_id, quantity, price, opens_at, closes_at, per_user_limit, \
                       created_at, updated_at, opened_at, closed_at, room_admit_per_minute, room_max_active, \
                       room_session_minutes, room_prequeue_minutes, queue_seed, allocation";

/// The drops and, for a raffle drop, its raffle's public columns (never the seed).
const FROM: &str = "drops LEFT JOIN raffles ON raffles.subject_id = drops.id";

fn drop_from_row(row: &DbRow) -> Result<ProductDrop, DbError> {
    Ok(ProductDrop {
        id: row.try_get("id").map_err(map_err)?,
        product_id: row.try_get("product_id").map_err(map_err)?,
        seller_id: row.try_get("seller_id").map_err(map_err)?,
        quantity: row.try_get("quantity").map_err(map_err)?,
        price: row.try_get("price").map_err(map_err)?,
        opens_at: row.try_get("opens_at").map_err(map_err)?,
        closes_at: row.try_get("closes_at").map_err(map_err)?,
        per_user_limit: row.try_get("per_user_limit").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
        opened_at: row.try_get("opened_at").map_err(map_err)?,
        closed_at: row.try_get("closed_at").map_err(map_err)?,
        waiting_room: room_from_row(row)?,
        queue_seed: row.try_get("queue_seed").map_err(map_err)?,
        allocation: super::parse_column(row, "allocation")?,
        raffle: raffle_from_row(row)?,
    })
}

fn room_from_row(row: &DbRow) -> Result<Option<WaitingRoomSettings>, DbError> {
    let Some(admit_per_minute) = row.try_get("room_admit_per_minute").map_err(map_err)? else {
        return Ok(None);
    };
    Ok(Some(WaitingRoomSettings {
        admit_per_minute,
        max_active: row.try_get("room_max_active").map_err(map_err)?,
        session_minutes: row.try_get("room_session_minutes").map_err(map_err)?,
        prequeue_minutes: row.try_get("room_prequeue_minutes").map_err(map_err)?,
    }))
}

#[async_trait]
impl DropStore for SqlStore {
    async fn create_drop(
        &self,
        drop: &ProductDrop,
        seed: Option<&Seed>,
        jobs: &[NewJob],
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        sqlx::query(&format!(
            "INSERT INTO drops ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(drop.id)
        .bind(drop.product_id)
        .bind(drop.seller_id)
        .bind(drop.quantity)
        .bind(drop.price)
        .bind(drop.opens_at)
        .bind(drop.closes_at)
        .bind(drop.per_user_limit)
        .bind(drop.created_at)
        .bind(drop.updated_at)
        .bind(drop.opened_at)
        .bind(drop.closed_at)
        .bind(drop.waiting_room.map(|room| room.admit_per_minute))
        .bind(drop.waiting_room.and_then(|room| room.max_active))
        .bind(drop.waiting_room.map(|room| room.session_minutes))
        .bind(drop.waiting_room.map(|room| room.prequeue_minutes))
        .bind(&drop.queue_seed)
        .bind(drop.allocation.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let (Some(raffle), Some(seed)) = (&drop.raffle, seed) {
            insert_raffle(&mut tx, drop.id, RaffleKind::Drop, raffle, seed).await?;
        }
        super::claims::insert_pool(
            &mut tx,
            drop.pool_key(),
            drop.quantity,
            i64::from(drop.per_user_limit),
        )
        .await?;
        insert_jobs(&mut tx, jobs, drop.created_at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn drop_by_id(&self, id: Uuid) -> Result<ProductDrop, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, {RAFFLE_COLUMNS} FROM {FROM} WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        drop_from_row(&row)
    }

    async fn list_drops(&self, filter: &DropFilter) -> Result<Vec<ProductDrop>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {COLUMNS}, {RAFFLE_COLUMNS} FROM {FROM} WHERE 1 = 1"
        ));
        if let Some(seller) = filter.seller_id {
            query.push(" AND seller_id = ").push_bind(seller);
        }
        push_window(&mut query, filter.window, "opens_at", "closes_at");
        push_opening(&mut query, filter.opening);
        query
            .push(" ORDER BY opens_at, id LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(drop_from_row).collect()
    }

    async fn update_drop(&self, drop: &ProductDrop, now: DateTime<Utc>) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let updated = sqlx::query(
            "UPDATE drops SET quantity = $2, price = $3, opens_at = $4, closes_at = $5, \
             per_user_limit = $6, updated_at = $7, room_admit_per_minute = $9, \
             room_max_active = $10, room_session_minutes = $11, room_prequeue_minutes = $12 \
             WHERE id = $1 AND opens_at > $8",
        )
        .bind(drop.id)
        .bind(drop.quantity)
        .bind(drop.price)
        .bind(drop.opens_at)
        .bind(drop.closes_at)
        .bind(drop.per_user_limit)
        .bind(drop.updated_at)
        .bind(now)
        .bind(drop.waiting_room.map(|room| room.admit_per_minute))
        .bind(drop.waiting_room.and_then(|room| room.max_active))
        .bind(drop.waiting_room.map(|room| room.session_minutes))
        .bind(drop.waiting_room.map(|room| room.prequeue_minutes))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if updated == 0 {
            return Err(conflict_or_missing(&mut tx, "drops", drop.id, DROP_NOT_SCHEDULED).await);
        }
        sqlx::query("UPDATE pools SET total = $2, per_user_limit = $3 WHERE key = $1")
            .bind(drop.pool_key())
            .bind(drop.quantity)
            .bind(i64::from(drop.per_user_limit))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_drop(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError> {
        let pool = rushline_store::drop_pool_key(id);
        delete_scheduled(self, "drops", id, pool, now, DROP_NOT_SCHEDULED).await
    }

    async fn advance_drops(
        &self,
        now: DateTime<Utc>,
        told: fn(Uuid, DateTime<Utc>) -> Vec<NewJob>,
    ) -> Result<Vec<Uuid>, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let mut changed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE drops SET opened_at = $1 WHERE opened_at IS NULL AND opens_at <= $1 RETURNING id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let closed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE drops SET closed_at = $1 WHERE closed_at IS NULL AND closes_at <= $1 RETURNING id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let jobs: Vec<NewJob> = closed.iter().flat_map(|&id| told(id, now)).collect();
        insert_jobs(&mut tx, &jobs, now).await?;
        tx.commit().await.map_err(map_err)?;
        changed.extend(closed);
        changed.sort();
        changed.dedup();
        Ok(changed)
    }

    async fn record_queue_seed(&self, id: Uuid, seed: &str) -> Result<String, DbError> {
        let recorded: Option<String> = sqlx::query_scalar(
            "UPDATE drops SET queue_seed = COALESCE(queue_seed, $2) WHERE id = $1 RETURNING queue_seed",
        )
        .bind(id)
        .bind(seed)
        .fetch_optional(self.writer())
        .await
        .map_err(map_err)?;
        recorded.ok_or(DbError::NotFound)
    }

    async fn drops_with_open_rooms(&self, now: DateTime<Utc>) -> Result<Vec<ProductDrop>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, {RAFFLE_COLUMNS} FROM {FROM} WHERE room_admit_per_minute IS NOT NULL \
             AND opens_at <= $1 AND closes_at > $1 ORDER BY opens_at, id"
        ))
        .bind(now)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(drop_from_row).collect()
    }
}
