use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::OrderStatus;
use rushline_store::{
    DbError, ORDER_STATUS_CHANGED, Order, OrderEvent, OrderFilter, OrderLine, OrderStore,
    OrderTransition, Redemption,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::jobs::insert_jobs;
use super::{Db, DbConnection, DbRow, SqlStore, map_err, parse_column, push_one_of};

const COLUMNS: &str = "o.id, o.buyer_id, o.status, o.idempotency_key, o.total, o.hold_expires_at, \
                       o.created_at, o.updated_at, o.status_changed_at, o.return_reason, o.return_note, \
                       o.coupon_id, o.discount, o.points_spent";

fn order_from_row(row: &DbRow) -> Result<Order, DbError> {
    Ok(Order {
        id: row.try_get("id").map_err(map_err)?,
        buyer_id: row.try_get("buyer_id").map_err(map_err)?,
        status: parse_column(row, "status")?,
        idempotency_key: row.try_get("idempotency_key").map_err(map_err)?,
        total: row.try_get("total").map_err(map_err)?,
        redemption: Redemption {
            coupon_id: row.try_get("coupon_id").map_err(map_err)?,
            discount: row.try_get("discount").map_err(map_err)?,
            points: row.try_get("points_spent").map_err(map_err)?,
        },
        hold_expires_at: row.try_get("hold_expires_at").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
        status_changed_at: row.try_get("status_changed_at").map_err(map_err)?,
        return_reason: row.try_get("return_reason").map_err(map_err)?,
        return_note: row.try_get("return_note").map_err(map_err)?,
        lines: Vec::new(),
        history: Vec::new(),
    })
}

/// Fills in the lines of `orders`, in one query.
async fn with_lines(pool: &sqlx::Pool<Db>, mut orders: Vec<Order>) -> Result<Vec<Order>, DbError> {
    if orders.is_empty() {
        return Ok(orders);
    }
    let mut query = QueryBuilder::<Db>::new(
        "SELECT l.order_id, l.line_no, l.product_id, p.seller_id, l.drop_id, l.qty, l.unit_price, l.claim_id, c.pool_key, c.seq \
         FROM order_lines l JOIN claims c ON c.id = l.claim_id JOIN products p ON p.id = l.product_id \
         WHERE ",
    );
    let ids: Vec<Uuid> = orders.iter().map(|order| order.id).collect();
    push_one_of(&mut query, "l.order_id", &ids);
    query.push(" ORDER BY l.order_id, l.line_no");
    let rows = query.build().fetch_all(pool).await.map_err(map_err)?;
    let mut lines: HashMap<Uuid, Vec<OrderLine>> = HashMap::new();
    for row in &rows {
        let order_id: Uuid = row.try_get("order_id").map_err(map_err)?;
        let line = OrderLine {
            line_no: row.try_get("line_no").map_err(map_err)?,
            product_id: row.try_get("product_id").map_err(map_err)?,
            seller_id: row.try_get("seller_id").map_err(map_err)?,
            drop_id: row.try_get("drop_id").map_err(map_err)?,
            qty: row.try_get("qty").map_err(map_err)?,
            unit_price: row.try_get("unit_price").map_err(map_err)?,
            claim_id: row.try_get("claim_id").map_err(map_err)?,
            pool_key: row.try_get("pool_key").map_err(map_err)?,
            seq: row.try_get("seq").map_err(map_err)?,
        };
        lines.entry(order_id).or_default().push(line);
    }
    for order in &mut orders {
        order.lines = lines.remove(&order.id).unwrap_or_default();
    }
    Ok(orders)
}

/// Fills in the lines and the history of `order`.
async fn complete(pool: &sqlx::Pool<Db>, order: Order) -> Result<Order, DbError> {
    let id = order.id;
    let mut order = with_lines(pool, vec![order])
        .await?
        .pop()
        .ok_or_else(|| DbError::Other(format!("order {id} was lost filling in its lines")))?;
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

/// Applies `change` on `conn`, inside the caller's transaction: the status (only from
/// `change.from`), its history entry, the release of the order's claims when it leaves a status
/// that holds stock, and the jobs it causes.
pub(crate) async fn apply_transition(
    conn: &mut DbConnection,
    change: &OrderTransition,
) -> Result<(), DbError> {
    let (reason, note) = change.return_request.clone().unzip();
    let updated = sqlx::query(
        "UPDATE orders SET status = $2, status_changed_at = $3, updated_at = $3, \
             return_reason = COALESCE($5, return_reason), return_note = COALESCE($6, return_note) \
             WHERE id = $1 AND status = $4 AND (NOT $7 OR hold_expires_at > $3)",
    )
    .bind(change.order_id)
    .bind(change.to.as_str())
    .bind(change.at)
    .bind(change.from.as_str())
    .bind(reason)
    .bind(note.flatten())
    .bind(change.within_hold)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?
    .rows_affected();
    if updated == 0 {
        return Err(super::conflict_or_missing(
            conn,
            "orders",
            change.order_id,
            ORDER_STATUS_CHANGED,
        )
        .await);
    }
    sqlx::query("INSERT INTO order_events (order_id, at, status, cause) VALUES ($1, $2, $3, $4)")
        .bind(change.order_id)
        .bind(change.at)
        .bind(change.to.as_str())
        .bind(&change.cause)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    if change.from.holds_stock() && !change.to.holds_stock() {
        let released: Vec<(String, i32)> = sqlx::query_as(
                "UPDATE claims SET released_at = $2 WHERE released_at IS NULL \
                 AND id IN (SELECT claim_id FROM order_lines WHERE order_id = $1) RETURNING pool_key, qty",
            )
            .bind(change.order_id)
            .bind(change.at)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        super::claims::give_back(&mut *conn, released).await?;
    }
    super::coupons::follow_order(&mut *conn, change).await?;
    super::points::follow_order(&mut *conn, change).await?;
    insert_jobs(&mut *conn, &change.jobs, change.at).await?;
    Ok(())
}

#[async_trait]
impl OrderStore for SqlStore {
    async fn order(&self, id: Uuid) -> Result<Order, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM orders o WHERE o.id = $1"))
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        complete(self.reader(), order_from_row(&row)?).await
    }

    async fn pending_orders(&self, buyer: Uuid) -> Result<i64, DbError> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders WHERE buyer_id = $1 AND status = 'pending_payment'",
        )
        .bind(buyer)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)
    }

    async fn transition_order(&self, change: &OrderTransition) -> Result<Order, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        apply_transition(&mut tx, change).await?;
        tx.commit().await.map_err(map_err)?;
        self.order(change.order_id).await
    }

    async fn orders_due(
        &self,
        status: OrderStatus,
        changed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(Uuid, Uuid, DateTime<Utc>)>, DbError> {
        let column = if status == OrderStatus::PendingPayment {
            "hold_expires_at"
        } else {
            "status_changed_at"
        };
        sqlx::query_as(&format!(
            "SELECT id, buyer_id, {column} FROM orders WHERE status = $1 AND {column} <= $2 ORDER BY {column} LIMIT $3"
        ))
        .bind(status.as_str())
        .bind(changed_before)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(map_err)
    }

    async fn holds_expiring(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid, DateTime<Utc>)>, DbError> {
        sqlx::query_as(
            "SELECT id, buyer_id, hold_expires_at FROM orders WHERE status = 'pending_payment' \
             AND hold_expires_at > $1 AND hold_expires_at <= $2",
        )
        .bind(after)
        .bind(until)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)
    }

    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<Order>, DbError> {
        if let Some(drop) = filter.drop_id {
            return drop_orders(self.reader(), drop, filter).await;
        }
        let mut query =
            QueryBuilder::<Db>::new(format!("SELECT {COLUMNS} FROM orders o WHERE 1 = 1"));
        if let Some(buyer) = filter.buyer_id {
            query.push(" AND o.buyer_id = ").push_bind(buyer);
        }
        if let Some(status) = filter.status {
            query.push(" AND o.status = ").push_bind(status.as_str());
        }
        if let Some(seller) = filter.seller_id {
            query.push(
                " AND EXISTS (SELECT 1 FROM order_lines l JOIN products p ON p.id = l.product_id \
                 WHERE l.order_id = o.id AND p.seller_id = ",
            );
            query.push_bind(seller).push(")");
        }
        if let Some((created_at, id)) = filter.before {
            query.push(" AND (o.created_at < ").push_bind(created_at);
            query.push(" OR (o.created_at = ").push_bind(created_at);
            query.push(" AND o.id < ").push_bind(id).push("))");
        }
        query
            .push(" ORDER BY o.created_at DESC, o.id DESC LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        let orders = rows.iter().map(order_from_row).collect::<Result<_, _>>()?;
        with_lines(self.reader(), orders).await
    }
}

/// A drop's orders, newest first: a page is read backwards along `order_lines_drop` (drop,
/// created_at, order) and stops at its size, so it costs the same on a drop of two orders and on
/// one of 200,000, whatever the planner knows of the tables. A drop's units are bought one line
/// per order (a purchase), so each order comes once; a drop is one seller's.
async fn drop_orders(
    pool: &sqlx::Pool<Db>,
    drop: Uuid,
    filter: &OrderFilter,
) -> Result<Vec<Order>, DbError> {
    let mut query = QueryBuilder::<Db>::new(format!(
        "SELECT {COLUMNS} FROM (SELECT order_id, created_at FROM order_lines WHERE drop_id = "
    ));
    query.push_bind(drop);
    if filter.buyer_id.is_some() || filter.status.is_some() {
        query.push(" AND EXISTS (SELECT 1 FROM orders f WHERE f.id = order_lines.order_id");
        if let Some(buyer) = filter.buyer_id {
            query.push(" AND f.buyer_id = ").push_bind(buyer);
        }
        if let Some(status) = filter.status {
            query.push(" AND f.status = ").push_bind(status.as_str());
        }
        query.push(")");
    }
    if let Some((created_at, id)) = filter.before {
        query
            .push(" AND (created_at, order_id) < (")
            .push_bind(created_at);
        query.push(", ").push_bind(id).push(")");
    }
    query
        .push(" ORDER BY created_at DESC, order_id DESC LIMIT ")
        .push_bind(i64::from(filter.limit));
    query.push(") l JOIN orders o ON o.id = l.order_id");
    if let Some(seller) = filter.seller_id {
        query
            .push(" WHERE EXISTS (SELECT 1 FROM drops d WHERE d.id = ")
            .push_bind(drop);
        query
            .push(" AND d.seller_id = ")
            .push_bind(seller)
            .push(")");
    }
    query.push(" ORDER BY l.created_at DESC, l.order_id DESC");
    let rows = query.build().fetch_all(pool).await.map_err(map_err)?;
    let orders = rows.iter().map(order_from_row).collect::<Result<_, _>>()?;
    with_lines(pool, orders).await
}
