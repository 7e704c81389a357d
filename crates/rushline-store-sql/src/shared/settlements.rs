use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use const_format::formatcp;
use rushline_store::{
    DbError, NewJob, SETTLEMENT_PAID, Settlement, SettlementFilter, SettlementLine, SettlementRun,
    SettlementStore,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::jobs::insert_jobs;
use super::{Db, DbRow, SqlStore, map_err};

const SETTLEMENT_COLUMNS: &str = "id, seller_id, business_day, revision, orders, gross, \
     seller_discount, platform_discount, points, platform_fee, payment_fee, net, \
     platform_fee_ppm, payment_fee_ppm, created_at, paid_at";

const AMOUNTS: &str =
    "gross, seller_discount, platform_discount, points, platform_fee, payment_fee, net";

/// `fee(base, rate)` in SQL: the base times the rate in millionths, rounded half up, split so
/// that no base an order can have overflows (`FeeRate::fee` is the reference).
macro_rules! fee {
    ($rate:literal) => {
        concat!(
            "(base / 1000000 * ",
            $rate,
            " + ((base % 1000000) * ",
            $rate,
            " + 500000) / 1000000)"
        )
    };
}

/// Each order completed in `[$2, $3)` and its seller's part of it, one row per (order, seller):
/// the gross of the seller's lines; the order's coupon discount as seller-funded
/// when the coupon's scope is the seller or one of their products, else (a store coupon) as
/// platform-funded; the points spent as platform-funded. A platform-funded amount goes on the
/// part of the seller of the order's first line: the platform pays it, so it moves no payout.
const PARTS: &str = "SELECT p.seller_id, o.id AS order_id, MAX(o.status_changed_at) AS completed_at, \
     CAST(SUM(l.qty * l.unit_price) AS BIGINT) AS gross, \
     MAX(CASE WHEN cc.scope_kind IN ('seller', 'product') \
         AND COALESCE(sp.seller_id, cc.scope_id) = p.seller_id THEN o.discount ELSE 0 END) \
         AS seller_discount, \
     MAX(CASE WHEN l.line_no = 1 AND cc.scope_kind = 'store' THEN o.discount ELSE 0 END) \
         AS platform_discount, \
     MAX(CASE WHEN l.line_no = 1 THEN o.points_spent ELSE 0 END) AS points \
     FROM orders o \
     JOIN order_lines l ON l.order_id = o.id \
     JOIN products p ON p.id = l.product_id \
     LEFT JOIN coupons c ON c.id = o.coupon_id \
     LEFT JOIN coupon_campaigns cc ON cc.id = c.campaign_id \
     LEFT JOIN products sp ON cc.scope_kind = 'product' AND sp.id = cc.scope_id \
     WHERE o.status = 'completed' AND o.status_changed_at >= $2 AND o.status_changed_at < $3 \
     AND ($6 IS NULL OR p.seller_id = $6) \
     GROUP BY p.seller_id, o.id";

/// Writes the lines of one window: `$1` the day, `$4` and `$5` the fee rates in millionths,
/// `$6` the seller or NULL. The revision is one past the seller's latest settlement of the day,
/// whose row this run writes only after its lines. A part settled before meets its line's primary
/// key and is skipped: an index probe per row, where an anti-join against the lines was planned,
/// on PostgreSQL, as a scan of the lines per row while the table was new (quadratic in a run).
/// (`WHERE true` keeps SQLite from reading `ON CONFLICT` as a join's `ON`.)
const INSERT_LINES: &str = formatcp!(
    "INSERT INTO settlement_lines (seller_id, order_id, business_day, revision, completed_at, \
     {AMOUNTS}) \
     SELECT seller_id, order_id, $1, revision, completed_at, gross, seller_discount, \
     platform_discount, points, platform_fee, payment_fee, base - platform_fee - payment_fee \
     FROM (SELECT seller_id, order_id, revision, completed_at, gross, seller_discount, \
         platform_discount, points, base, {} AS platform_fee, {} AS payment_fee \
         FROM (SELECT parts.*, parts.gross - parts.seller_discount AS base, \
             COALESCE(latest.revision, 0) + 1 AS revision \
             FROM ({PARTS}) parts \
             LEFT JOIN (SELECT seller_id, MAX(revision) AS revision FROM settlements \
                 WHERE business_day = $1 GROUP BY seller_id) latest \
             ON latest.seller_id = parts.seller_id) based) priced \
     WHERE true ON CONFLICT (seller_id, order_id) DO NOTHING",
    fee!("$4"),
    fee!("$5"),
);

/// Sums the lines of the day that have no settlement yet (this run's) into their settlements.
const INSERT_SETTLEMENTS: &str = formatcp!(
    "INSERT INTO settlements (seller_id, business_day, revision, orders, {AMOUNTS}, \
     platform_fee_ppm, payment_fee_ppm, created_at, paid_at) \
     SELECT l.seller_id, l.business_day, l.revision, COUNT(*), \
     CAST(SUM(l.gross) AS BIGINT), CAST(SUM(l.seller_discount) AS BIGINT), \
     CAST(SUM(l.platform_discount) AS BIGINT), CAST(SUM(l.points) AS BIGINT), \
     CAST(SUM(l.platform_fee) AS BIGINT), CAST(SUM(l.payment_fee) AS BIGINT), \
     CAST(SUM(l.net) AS BIGINT), $2, $3, $4, NULL \
     FROM settlement_lines l WHERE l.business_day = $1 \
     AND NOT EXISTS (SELECT 1 FROM settlements s WHERE s.seller_id = l.seller_id \
         AND s.business_day = l.business_day AND s.revision = l.revision) \
     GROUP BY l.seller_id, l.business_day, l.revision \
     RETURNING {SETTLEMENT_COLUMNS}"
);

fn settlement_from_row(row: &DbRow) -> Result<Settlement, DbError> {
    Ok(Settlement {
        id: row.try_get("id").map_err(map_err)?,
        seller_id: row.try_get("seller_id").map_err(map_err)?,
        business_day: row.try_get("business_day").map_err(map_err)?,
        revision: row.try_get("revision").map_err(map_err)?,
        orders: row.try_get("orders").map_err(map_err)?,
        gross: row.try_get("gross").map_err(map_err)?,
        seller_discount: row.try_get("seller_discount").map_err(map_err)?,
        platform_discount: row.try_get("platform_discount").map_err(map_err)?,
        points: row.try_get("points").map_err(map_err)?,
        platform_fee: row.try_get("platform_fee").map_err(map_err)?,
        payment_fee: row.try_get("payment_fee").map_err(map_err)?,
        net: row.try_get("net").map_err(map_err)?,
        platform_fee_ppm: row.try_get("platform_fee_ppm").map_err(map_err)?,
        payment_fee_ppm: row.try_get("payment_fee_ppm").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        paid_at: row.try_get("paid_at").map_err(map_err)?,
    })
}

fn line_from_row(row: &DbRow) -> Result<SettlementLine, DbError> {
    Ok(SettlementLine {
        order_id: row.try_get("order_id").map_err(map_err)?,
        revision: row.try_get("revision").map_err(map_err)?,
        completed_at: row.try_get("completed_at").map_err(map_err)?,
        gross: row.try_get("gross").map_err(map_err)?,
        seller_discount: row.try_get("seller_discount").map_err(map_err)?,
        platform_discount: row.try_get("platform_discount").map_err(map_err)?,
        points: row.try_get("points").map_err(map_err)?,
        platform_fee: row.try_get("platform_fee").map_err(map_err)?,
        payment_fee: row.try_get("payment_fee").map_err(map_err)?,
        net: row.try_get("net").map_err(map_err)?,
    })
}

#[async_trait]
impl SettlementStore for SqlStore {
    async fn settle(
        &self,
        run: &SettlementRun,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Vec<Settlement>, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let mut lines = 0;
        for &(start, end) in &run.windows {
            // Planned for each window's own bounds: a cached generic plan of a prepared
            // statement cannot know how few orders a window holds, and PostgreSQL switched to
            // one that read every order for every window.
            lines += sqlx::query(INSERT_LINES)
                .persistent(false)
                .bind(run.day)
                .bind(start)
                .bind(end)
                .bind(run.platform_fee.millionths())
                .bind(run.payment_fee.millionths())
                .bind(run.seller)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            progress(lines);
        }
        let rows = sqlx::query(INSERT_SETTLEMENTS)
            .bind(run.day)
            .bind(run.platform_fee.millionths())
            .bind(run.payment_fee.millionths())
            .bind(run.at)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let mut settlements = rows
            .iter()
            .map(settlement_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        settlements.sort_by_key(|s| (s.seller_id, s.revision));
        let notices: Vec<NewJob> = settlements.iter().map(run.notice).collect();
        insert_jobs(&mut tx, &notices, run.at).await?;
        if run.dry_run {
            tx.rollback().await.map_err(map_err)?;
        } else {
            tx.commit().await.map_err(map_err)?;
        }
        Ok(settlements)
    }

    async fn list_settlements(
        &self,
        filter: &SettlementFilter,
    ) -> Result<Vec<Settlement>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE 1 = 1"
        ));
        if let Some(seller) = filter.seller {
            query.push(" AND seller_id = ").push_bind(seller);
        }
        if let Some(from) = filter.from {
            query.push(" AND business_day >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            query.push(" AND business_day <= ").push_bind(to);
        }
        if let Some((day, seller, revision)) = filter.after {
            query
                .push(" AND (business_day > ")
                .push_bind(day)
                .push(" OR (business_day = ")
                .push_bind(day)
                .push(" AND (seller_id > ")
                .push_bind(seller)
                .push(" OR (seller_id = ")
                .push_bind(seller)
                .push(" AND revision > ")
                .push_bind(revision)
                .push("))))");
        }
        query
            .push(" ORDER BY business_day, seller_id, revision LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(settlement_from_row).collect()
    }

    async fn settlement(&self, id: i64) -> Result<Settlement, DbError> {
        let row = sqlx::query(formatcp!(
            "SELECT {SETTLEMENT_COLUMNS} FROM settlements WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        settlement_from_row(&row)
    }

    async fn settlement_lines(
        &self,
        seller: Uuid,
        day: NaiveDate,
        after: Option<(i32, Uuid)>,
        limit: u32,
    ) -> Result<Vec<SettlementLine>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT order_id, revision, completed_at, {AMOUNTS} FROM settlement_lines \
             WHERE seller_id = "
        ));
        query
            .push_bind(seller)
            .push(" AND business_day = ")
            .push_bind(day);
        if let Some((revision, order)) = after {
            query
                .push(" AND (revision > ")
                .push_bind(revision)
                .push(" OR (revision = ")
                .push_bind(revision)
                .push(" AND order_id > ")
                .push_bind(order)
                .push("))");
        }
        query
            .push(" ORDER BY revision, order_id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(line_from_row).collect()
    }

    async fn mark_settlement_paid(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<Settlement, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let row = sqlx::query(formatcp!(
            "UPDATE settlements SET paid_at = $2 WHERE id = $1 AND paid_at IS NULL \
             RETURNING {SETTLEMENT_COLUMNS}"
        ))
        .bind(id)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            let exists = sqlx::query("SELECT 1 FROM settlements WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
            return Err(match exists {
                Some(_) => DbError::Conflict {
                    constraint: SETTLEMENT_PAID.to_owned(),
                },
                None => DbError::NotFound,
            });
        };
        tx.commit().await.map_err(map_err)?;
        settlement_from_row(&row)
    }
}
