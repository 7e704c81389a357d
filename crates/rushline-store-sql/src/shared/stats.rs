use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rushline_domain::Won;
use rushline_store::{DbError, DropSale, ProductRating, RoomFigures, SellerDay, StatsStore};
use sqlx::Row;
use uuid::Uuid;

use super::{Db, SqlStore, map_err, push_one_of};

/// The orders with a line of the seller's, joined to their lines and products.
const SELLER_LINES: &str = "FROM orders o JOIN order_lines l ON l.order_id = o.id \
                            JOIN products p ON p.id = l.product_id";

#[async_trait]
impl StatsStore for SqlStore {
    async fn roll_up_seller_days(
        &self,
        day: NaiveDate,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        sqlx::query("DELETE FROM seller_daily_stats WHERE business_day = $1")
            .bind(day)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // Placed orders, per order then per seller (an order counts once for each of its sellers).
        let placed = format!(
            "INSERT INTO seller_daily_stats (seller_id, business_day, orders, units, gross, \
             cancelled, returned, rolled_up_at) \
             SELECT seller_id, $1, COUNT(*), CAST(SUM(units) AS BIGINT), CAST(SUM(gross) AS BIGINT), \
             CAST(SUM(cancelled) AS BIGINT), 0, $4 \
             FROM (SELECT p.seller_id, o.id, SUM(l.qty) AS units, \
                 SUM(l.qty * l.unit_price) AS gross, \
                 MAX(CASE WHEN o.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled \
                 {SELLER_LINES} \
                 WHERE o.created_at >= $2 AND o.created_at < $3 AND o.status <> 'expired' \
                 GROUP BY p.seller_id, o.id) placed \
             GROUP BY seller_id"
        );
        // Returns of the day, on the row of a seller who placed nothing that day too.
        let returned = format!(
            "SELECT p.seller_id, COUNT(DISTINCT o.id) AS returned {SELLER_LINES} \
             WHERE o.status = 'returned' AND o.status_changed_at >= $2 \
             AND o.status_changed_at < $3 GROUP BY p.seller_id"
        );
        let mut rows = 0;
        rows += sqlx::query(&placed)
            .bind(day)
            .bind(start)
            .bind(end)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        rows += sqlx::query(&format!(
            "INSERT INTO seller_daily_stats (seller_id, business_day, orders, units, gross, \
             cancelled, returned, rolled_up_at) \
             SELECT r.seller_id, $1, 0, 0, 0, 0, 0, $4 FROM ({returned}) r \
             WHERE NOT EXISTS (SELECT 1 FROM seller_daily_stats s \
                 WHERE s.seller_id = r.seller_id AND s.business_day = $1)"
        ))
        .bind(day)
        .bind(start)
        .bind(end)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        sqlx::query(&format!(
            "UPDATE seller_daily_stats SET returned = COALESCE((SELECT r.returned \
             FROM ({returned}) r WHERE r.seller_id = seller_daily_stats.seller_id), 0) \
             WHERE business_day = $1"
        ))
        .bind(day)
        .bind(start)
        .bind(end)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(rows)
    }

    async fn seller_days(
        &self,
        seller: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SellerDay>, DbError> {
        let mut days: BTreeMap<NaiveDate, SellerDay> = BTreeMap::new();
        let empty = |day| SellerDay {
            day,
            orders: 0,
            units: 0,
            gross: Won::ZERO,
            net: Won::ZERO,
            cancelled: 0,
            returned: 0,
        };
        let rows = sqlx::query(
            "SELECT business_day, orders, units, gross, cancelled, returned \
             FROM seller_daily_stats WHERE seller_id = $1 AND business_day >= $2 \
             AND business_day <= $3",
        )
        .bind(seller)
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        for row in &rows {
            let day: NaiveDate = row.try_get("business_day").map_err(map_err)?;
            days.insert(
                day,
                SellerDay {
                    orders: row.try_get("orders").map_err(map_err)?,
                    units: row.try_get("units").map_err(map_err)?,
                    gross: row.try_get("gross").map_err(map_err)?,
                    cancelled: row.try_get("cancelled").map_err(map_err)?,
                    returned: row.try_get("returned").map_err(map_err)?,
                    ..empty(day)
                },
            );
        }
        let nets = sqlx::query(
            "SELECT business_day, CAST(SUM(net) AS BIGINT) AS net FROM settlements \
             WHERE seller_id = $1 AND business_day >= $2 AND business_day <= $3 \
             GROUP BY business_day",
        )
        .bind(seller)
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        for row in &nets {
            let day: NaiveDate = row.try_get("business_day").map_err(map_err)?;
            days.entry(day).or_insert_with(|| empty(day)).net =
                row.try_get("net").map_err(map_err)?;
        }
        Ok(days.into_values().collect())
    }

    async fn product_ratings(&self, seller: Uuid) -> Result<Vec<ProductRating>, DbError> {
        let rows = sqlx::query(
            "SELECT p.id, p.name, r.review_count, r.rating_sum FROM products p \
             JOIN review_stats r ON r.product_id = p.id \
             WHERE p.seller_id = $1 AND p.deleted_at IS NULL AND r.review_count > 0 \
             ORDER BY p.id",
        )
        .bind(seller)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(ProductRating {
                    product_id: row.try_get("id").map_err(map_err)?,
                    name: row.try_get("name").map_err(map_err)?,
                    reviews: row.try_get("review_count").map_err(map_err)?,
                    rating_sum: row.try_get("rating_sum").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn record_drop_sale(&self, sale: &DropSale, at: DateTime<Utc>) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO drop_sales (drop_id, units_sold, last_grant_at, peak_per_second, \
             rolled_up_at, room_peak_waiting, room_admitted, room_used, room_median_wait_seconds) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (drop_id) DO NOTHING",
        )
        .bind(sale.drop_id)
        .bind(sale.units_sold)
        .bind(sale.last_grant_at)
        .bind(sale.peak_per_second)
        .bind(at)
        .bind(sale.room.map(|r| r.peak_waiting))
        .bind(sale.room.map(|r| r.admitted))
        .bind(sale.room.map(|r| r.used))
        .bind(sale.room.and_then(|r| r.median_wait_seconds))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn drop_sales(&self, drops: &[Uuid]) -> Result<Vec<DropSale>, DbError> {
        if drops.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "SELECT drop_id, units_sold, last_grant_at, peak_per_second, room_peak_waiting, \
             room_admitted, room_used, room_median_wait_seconds FROM drop_sales WHERE ",
        );
        push_one_of(&mut query, "drop_id", drops);
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let peak_waiting: Option<i64> =
                    row.try_get("room_peak_waiting").map_err(map_err)?;
                let room = match peak_waiting {
                    Some(peak_waiting) => Some(RoomFigures {
                        peak_waiting,
                        admitted: row.try_get("room_admitted").map_err(map_err)?,
                        used: row.try_get("room_used").map_err(map_err)?,
                        median_wait_seconds: row
                            .try_get("room_median_wait_seconds")
                            .map_err(map_err)?,
                    }),
                    None => None,
                };
                Ok(DropSale {
                    drop_id: row.try_get("drop_id").map_err(map_err)?,
                    units_sold: row.try_get("units_sold").map_err(map_err)?,
                    last_grant_at: row.try_get("last_grant_at").map_err(map_err)?,
                    peak_per_second: row.try_get("peak_per_second").map_err(map_err)?,
                    room,
                })
            })
            .collect()
    }
}
