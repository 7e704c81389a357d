use async_trait::async_trait;
use rushline_store::{DbError, Order, OrderEvent, OrderLine, OrderStore};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::PgStore;
use crate::error::{map_err, parse_column};

fn order_from_row(row: &PgRow) -> Result<Order, DbError> {
    Ok(Order {
        id: row.try_get("id").map_err(map_err)?,
        buyer_id: row.try_get("buyer_id").map_err(map_err)?,
        status: parse_column(row, "status")?,
        idempotency_key: row.try_get("idempotency_key").map_err(map_err)?,
        total: row.try_get("total").map_err(map_err)?,
        hold_expires_at: row.try_get("hold_expires_at").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
        lines: Vec::new(),
        history: Vec::new(),
    })
}

/// Fills in the lines and the history of `order`.
async fn complete(pool: &PgPool, mut order: Order) -> Result<Order, DbError> {
    let lines = sqlx::query(
        "SELECT l.line_no, l.product_id, l.drop_id, l.qty, l.unit_price, l.claim_id, c.seq \
         FROM order_lines l JOIN claims c ON c.id = l.claim_id \
         WHERE l.order_id = $1 ORDER BY l.line_no",
    )
    .bind(order.id)
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    order.lines = lines
        .iter()
        .map(|row| {
            Ok(OrderLine {
                line_no: row.try_get("line_no").map_err(map_err)?,
                product_id: row.try_get("product_id").map_err(map_err)?,
                drop_id: row.try_get("drop_id").map_err(map_err)?,
                qty: row.try_get("qty").map_err(map_err)?,
                unit_price: row.try_get("unit_price").map_err(map_err)?,
                claim_id: row.try_get("claim_id").map_err(map_err)?,
                seq: row.try_get("seq").map_err(map_err)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    let events =
        sqlx::query("SELECT status, at, cause FROM order_events WHERE order_id = $1 ORDER BY id")
            .bind(order.id)
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
    order.history = events
        .iter()
        .map(|row| {
            Ok(OrderEvent {
                status: parse_column(row, "status")?,
                at: row.try_get("at").map_err(map_err)?,
                cause: row.try_get("cause").map_err(map_err)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(order)
}

const COLUMNS: &str = "o.id, o.buyer_id, o.status, o.idempotency_key, o.total, o.hold_expires_at, \
                       o.created_at, o.updated_at";

#[async_trait]
impl OrderStore for PgStore {
    async fn order(&self, id: Uuid) -> Result<Order, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM orders o WHERE o.id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        complete(&self.pool, order_from_row(&row)?).await
    }

    async fn orders_for_drop(&self, drop_id: Uuid) -> Result<Vec<Order>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT {COLUMNS} FROM orders o JOIN order_lines l ON l.order_id = o.id \
             WHERE l.drop_id = $1 ORDER BY o.created_at, o.id"
        ))
        .bind(drop_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut orders = Vec::with_capacity(rows.len());
        for row in &rows {
            orders.push(complete(&self.pool, order_from_row(row)?).await?);
        }
        Ok(orders)
    }
}
