use async_trait::async_trait;
use rushline_store::{DbError, PointEntry, PointStore};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use uuid::Uuid;

use crate::SqliteStore;
use crate::error::{map_err, parse_column};

fn entry_from_row(row: &SqliteRow) -> Result<PointEntry, DbError> {
    Ok(PointEntry {
        id: row.try_get("id").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        kind: parse_column(row, "kind")?,
        amount: row.try_get("amount").map_err(map_err)?,
        order_id: row.try_get("order_id").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
    })
}

#[async_trait]
impl PointStore for SqliteStore {
    async fn points_balance(&self, user_id: Uuid) -> Result<i64, DbError> {
        let balance: Option<i64> =
            sqlx::query_scalar("SELECT balance FROM point_balances WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
        Ok(balance.unwrap_or(0))
    }

    async fn point_entries(
        &self,
        user_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PointEntry>, DbError> {
        let rows = sqlx::query::<Sqlite>(
            "SELECT id, user_id, kind, amount, order_id, created_at FROM point_entries \
             WHERE user_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(user_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(entry_from_row).collect()
    }
}
