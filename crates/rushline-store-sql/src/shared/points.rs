use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::{PointKind, Won};
use rushline_store::{DbError, NewOrder, OrderTransition, PointEntry, PointStore};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{Db, DbConnection, DbRow, SqlStore, map_err, parse_column};

fn entry_from_row(row: &DbRow) -> Result<PointEntry, DbError> {
    Ok(PointEntry {
        id: row.try_get("id").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        kind: parse_column(row, "kind")?,
        amount: row.try_get("amount").map_err(map_err)?,
        order_id: row.try_get("order_id").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
    })
}

/// Spends the points of `orders`, in the group commit's transaction; false when a buyer's
/// balance does not cover their orders' points (other orders spent them), and the transaction
/// must be rolled back.
pub(crate) async fn spend_points(
    conn: &mut DbConnection,
    orders: &[&NewOrder],
) -> Result<bool, DbError> {
    let spending: Vec<&NewOrder> = orders
        .iter()
        .filter(|order| order.redemption.points > Won::ZERO)
        .copied()
        .collect();
    if spending.is_empty() {
        return Ok(true);
    }
    // Per buyer, in id order: the balance row is what one buyer's concurrent checkouts queue
    // on, and the condition is what keeps it from going below zero.
    let mut per_buyer: BTreeMap<Uuid, Won> = BTreeMap::new();
    for order in &spending {
        let points = per_buyer.entry(order.buyer_id).or_default();
        // Points beyond what an i64 holds are beyond any balance.
        let Some(sum) = points.checked_add(order.redemption.points) else {
            return Ok(false);
        };
        *points = sum;
    }
    for (buyer, points) in per_buyer {
        let spent = sqlx::query(
            "UPDATE point_balances SET balance = balance - $2 WHERE user_id = $1 AND balance >= $2",
        )
        .bind(buyer)
        .bind(points)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
        if spent == 0 {
            return Ok(false);
        }
    }
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO point_entries (user_id, kind, amount, order_id, created_at) ",
    );
    insert.push_values(&spending, |mut row, order| {
        row.push_bind(order.buyer_id)
            .push_bind(PointKind::Spend.as_str())
            .push_bind(Won::new(-order.redemption.points.get()))
            .push_bind(order.id)
            .push_bind(order.created_at);
    });
    insert.build().execute(&mut *conn).await.map_err(map_err)?;
    Ok(true)
}

/// What an order's status change means for the buyer's points, in the change's transaction:
/// the points it spent come back once it no longer holds stock, and `change.earn_points` are
/// credited. Each at most once per order, whatever runs twice.
pub(crate) async fn follow_order(
    conn: &mut DbConnection,
    change: &OrderTransition,
) -> Result<(), DbError> {
    let refunds = change.from.holds_stock() && !change.to.holds_stock();
    if !refunds && change.earn_points <= Won::ZERO {
        return Ok(());
    }
    let (buyer, spent): (Uuid, Won) =
        sqlx::query_as("SELECT buyer_id, points_spent FROM orders WHERE id = $1")
            .bind(change.order_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
    if refunds && spent > Won::ZERO {
        credit(
            conn,
            buyer,
            PointKind::Refund,
            spent,
            change.order_id,
            change.at,
        )
        .await?;
    }
    if change.earn_points > Won::ZERO {
        credit(
            conn,
            buyer,
            PointKind::Earn,
            change.earn_points,
            change.order_id,
            change.at,
        )
        .await?;
    }
    Ok(())
}

/// Adds `amount` points of `kind` for `order_id`, unless the order has an entry of that kind
/// already, with the balance in step.
async fn credit(
    conn: &mut DbConnection,
    user_id: Uuid,
    kind: PointKind,
    amount: Won,
    order_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let written: Option<i64> = sqlx::query_scalar(
        "INSERT INTO point_entries (user_id, kind, amount, order_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(amount)
    .bind(order_id)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    if written.is_some() {
        sqlx::query(
            "INSERT INTO point_balances (user_id, balance) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET balance = point_balances.balance + excluded.balance",
        )
        .bind(user_id)
        .bind(amount)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait]
impl PointStore for SqlStore {
    async fn points_balance(&self, user_id: Uuid) -> Result<Won, DbError> {
        let balance: Option<Won> =
            sqlx::query_scalar("SELECT balance FROM point_balances WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.reader())
                .await
                .map_err(map_err)?;
        Ok(balance.unwrap_or_default())
    }

    async fn point_entries(
        &self,
        user_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PointEntry>, DbError> {
        let rows = sqlx::query::<Db>(
            "SELECT id, user_id, kind, amount, order_id, created_at FROM point_entries \
             WHERE user_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(user_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(entry_from_row).collect()
    }
}
