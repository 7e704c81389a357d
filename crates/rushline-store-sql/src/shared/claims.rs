use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use const_format::formatcp;
use rushline_store::{ClaimRow, ClaimStore, ClaimWrite, CommitOutcome, DbError, NewOrder, Pool};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::coupons::{insert_coupons, reserve_coupons};
use super::points::spend_points;
use super::raffles::insert_entries;
use super::trials::{applications_exist, insert_applications};
use super::{
    Db, DbConnection, DbRow, FOR_UPDATE, GREATEST, SqlStore, finds_any, map_err, push_one_of,
};

pub(crate) fn claim_from_row(row: &DbRow) -> Result<ClaimRow, DbError> {
    Ok(ClaimRow {
        id: row.try_get("id").map_err(map_err)?,
        pool_key: row.try_get("pool_key").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        qty: row.try_get("qty").map_err(map_err)?,
        seq: row.try_get("seq").map_err(map_err)?,
        fingerprint: row.try_get("fingerprint").map_err(map_err)?,
        claimed_at: row.try_get("claimed_at").map_err(map_err)?,
        released_at: row.try_get("released_at").map_err(map_err)?,
    })
}

/// Why a set of writes cannot be committed together.
type Refusal = CommitOutcome;

/// Writes `writes` in the open transaction, checking every invariant the gate should already
/// have kept; `Ok(Err(_))` means the transaction must be rolled back.
async fn write_all(
    conn: &mut DbConnection,
    writes: &[ClaimWrite],
) -> Result<Result<(), Refusal>, DbError> {
    // Pool totals first, in key order, so that concurrent writers lock pools in one order.
    let mut per_pool: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for claim in writes.iter().flat_map(ClaimWrite::claims) {
        let (units, seq) = per_pool.entry(claim.pool_key.as_str()).or_default();
        *units += i64::from(claim.qty);
        *seq = (*seq).max(claim.seq);
    }
    for (key, (units, max_seq)) in &per_pool {
        let updated = sqlx::query(formatcp!(
            "UPDATE pools SET held = held + $2, last_seq = {GREATEST}(last_seq, $3) \
             WHERE key = $1 AND held + $2 <= total"
        ))
        .bind(key)
        .bind(units)
        .bind(max_seq)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
        if updated == 0 {
            return Ok(Err(CommitOutcome::SoldOut));
        }
    }

    let mut orders = Vec::new();
    let mut coupons = Vec::new();
    let mut applications = Vec::new();
    let mut entries = Vec::new();
    for write in writes {
        match write {
            ClaimWrite::Order(order) => orders.push(order),
            ClaimWrite::Coupon(coupon) => coupons.push(coupon),
            ClaimWrite::Application(application) => applications.push(application),
            ClaimWrite::Entry(entry) => entries.push(entry),
        }
    }
    if let Some(refusal) = insert_entries(conn, &entries).await? {
        return Ok(Err(refusal));
    }
    lock_buyers(conn, &orders).await?;
    if !insert_orders(conn, &orders).await?
        || !insert_coupons(conn, &coupons).await?
        || applications_exist(conn, &applications).await?
    {
        return Ok(Err(CommitOutcome::Duplicate));
    }

    let claims: Vec<_> = writes.iter().flat_map(ClaimWrite::claims).collect();
    // Only raffle entries: every other write holds a claim.
    if claims.is_empty() {
        return Ok(Ok(()));
    }
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO claims (id, pool_key, user_id, qty, seq, fingerprint, claimed_at) ",
    );
    insert.push_values(&claims, |mut row, claim| {
        row.push_bind(claim.id)
            .push_bind(&claim.pool_key)
            .push_bind(claim.user_id)
            .push_bind(claim.qty)
            .push_bind(claim.seq)
            .push_bind(claim.fingerprint)
            .push_bind(claim.claimed_at);
    });
    insert.build().execute(&mut *conn).await.map_err(map_err)?;

    insert_order_lines(conn, &orders).await?;
    if let Some(refusal) = insert_applications(conn, &applications).await? {
        return Ok(Err(refusal));
    }
    if !reserve_coupons(conn, &orders).await? {
        return Ok(Err(CommitOutcome::CouponUnavailable));
    }
    if !spend_points(conn, &orders).await? {
        return Ok(Err(CommitOutcome::InsufficientPoints));
    }
    if too_many_pending(conn, &orders).await? {
        return Ok(Err(CommitOutcome::TooManyPendingOrders));
    }

    // Per-user limits, over the active claims of every (pool, buyer) pair the batch touched:
    // one lookup of `claims_active` by both columns per pair, so that the cost does not grow
    // with the claims a pool already holds, whatever the planner knows of the table. (Joined
    // as `(pool_key, user_id) IN (…)`, PostgreSQL may scan the index by the pool alone and
    // filter the buyer, reading every claim of the pool in every batch.)
    let mut check = QueryBuilder::<Db>::new("WITH batch (pool_key, user_id) AS (");
    check.push_values(&claims, |mut row, claim| {
        row.push_bind(&claim.pool_key).push_bind(claim.user_id);
    });
    check.push(
        ") SELECT 1 FROM batch b JOIN pools p ON p.key = b.pool_key \
         WHERE (SELECT SUM(c.qty) FROM claims c WHERE c.released_at IS NULL \
                AND c.pool_key = b.pool_key AND c.user_id = b.user_id) > p.per_user_limit \
         LIMIT 1",
    );
    if finds_any(conn, check).await? {
        return Ok(Err(CommitOutcome::LimitReached));
    }
    Ok(Ok(()))
}

/// Creates a pool in the transaction that creates what it holds (a product's stock, a drop, a
/// campaign, a trial).
pub(crate) async fn insert_pool(
    conn: &mut DbConnection,
    key: String,
    total: i64,
    per_user_limit: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO pools (key, total, per_user_limit) VALUES ($1, $2, $3)")
        .bind(key)
        .bind(total)
        .bind(per_user_limit)
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Gives back the units of claims just released (`(pool, qty)` each) to their pools, in key
/// order, as the group commit locks pools, so the two never deadlock.
pub(crate) async fn give_back(
    conn: &mut DbConnection,
    mut released: Vec<(String, i32)>,
) -> Result<(), DbError> {
    released.sort_unstable();
    for (pool, qty) in released {
        sqlx::query("UPDATE pools SET held = held - $2 WHERE key = $1")
            .bind(pool)
            .bind(qty)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// Locks the buyers of `orders` (on PostgreSQL; SQLite's one writer runs transactions in turn),
/// in id order, so that two batches on two nodes cannot both see a buyer under the cap on unpaid
/// orders and both add one.
async fn lock_buyers(conn: &mut DbConnection, orders: &[&NewOrder]) -> Result<(), DbError> {
    if orders.is_empty() || FOR_UPDATE.is_empty() {
        return Ok(());
    }
    let buyers: Vec<Uuid> = orders
        .iter()
        .map(|order| order.buyer_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut lock = QueryBuilder::<Db>::new("SELECT id FROM users WHERE ");
    push_one_of(&mut lock, "id", &buyers);
    lock.push(" ORDER BY id");
    // Not FOR UPDATE: that would also block the key-share locks the batch's own foreign keys
    // to `users` take (claims, coupons, applications), and two nodes' batches could deadlock.
    lock.push(" FOR NO KEY UPDATE");
    lock.build().fetch_all(&mut *conn).await.map_err(map_err)?;
    Ok(())
}

/// Whether a buyer of `orders`, written in the open transaction, now has more orders awaiting
/// payment than their cap: one lookup of the partial index `orders_pending_buyer` per order.
async fn too_many_pending(conn: &mut DbConnection, orders: &[&NewOrder]) -> Result<bool, DbError> {
    if orders.is_empty() {
        return Ok(false);
    }
    let mut check = QueryBuilder::<Db>::new("WITH batch (buyer_id, max_pending) AS (");
    check.push_values(orders, |mut row, order| {
        row.push_bind(order.buyer_id).push_bind(order.max_pending);
    });
    check.push(
        ") SELECT 1 FROM batch b \
         WHERE (SELECT COUNT(*) FROM orders o WHERE o.buyer_id = b.buyer_id \
                AND o.status = 'pending_payment') > b.max_pending \
         LIMIT 1",
    );
    finds_any(conn, check).await
}

/// Writes `orders` in the open transaction; false when one of them exists already (a replay),
/// and the transaction must be rolled back.
async fn insert_orders(conn: &mut DbConnection, orders: &[&NewOrder]) -> Result<bool, DbError> {
    if orders.is_empty() {
        return Ok(true);
    }
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO orders (id, buyer_id, status, idempotency_key, total, hold_expires_at, created_at, \
         updated_at, status_changed_at, coupon_id, discount, points_spent) ",
    );
    insert.push_values(orders, |mut row, order| {
        row.push_bind(order.id)
            .push_bind(order.buyer_id)
            .push_bind("pending_payment")
            .push_bind(&order.idempotency_key)
            .push_bind(order.total)
            .push_bind(order.hold_expires_at)
            .push_bind(order.created_at)
            .push_bind(order.created_at)
            .push_bind(order.created_at)
            .push_bind(order.redemption.coupon_id)
            .push_bind(order.redemption.discount)
            .push_bind(order.redemption.points);
    });
    insert.push(" ON CONFLICT DO NOTHING");
    let inserted = insert
        .build()
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
    Ok(inserted == orders.len() as u64)
}

/// Writes the lines and the first history entry of `orders`, once their rows are in.
async fn insert_order_lines(conn: &mut DbConnection, orders: &[&NewOrder]) -> Result<(), DbError> {
    if orders.is_empty() {
        return Ok(());
    }
    let lines: Vec<_> = orders
        .iter()
        .flat_map(|order| {
            order
                .lines
                .iter()
                .zip(1_i32..)
                .map(move |(line, line_no)| (order, line_no, line))
        })
        .collect();
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO order_lines \
         (order_id, line_no, product_id, drop_id, qty, unit_price, claim_id, created_at) ",
    );
    insert.push_values(&lines, |mut row, (order, line_no, line)| {
        row.push_bind(order.id)
            .push_bind(line_no)
            .push_bind(line.product_id)
            .push_bind(line.drop_id)
            .push_bind(line.qty)
            .push_bind(line.unit_price)
            .push_bind(line.claim.id)
            .push_bind(order.created_at);
    });
    insert.build().execute(&mut *conn).await.map_err(map_err)?;

    let mut insert =
        QueryBuilder::<Db>::new("INSERT INTO order_events (order_id, at, status, cause) ");
    insert.push_values(orders, |mut row, order| {
        row.push_bind(order.id)
            .push_bind(order.created_at)
            .push_bind("pending_payment")
            .push_bind(order.cause);
    });
    insert.build().execute(&mut *conn).await.map_err(map_err)?;

    Ok(())
}

#[async_trait]
impl ClaimStore for SqlStore {
    async fn pool_snapshot(&self, key: &str) -> Result<(Pool, Vec<ClaimRow>), DbError> {
        let row = sqlx::query(
            "SELECT key, total, per_user_limit, held, last_seq FROM pools WHERE key = $1",
        )
        .bind(key)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        let pool = Pool {
            key: row.try_get("key").map_err(map_err)?,
            total: row.try_get("total").map_err(map_err)?,
            per_user_limit: row.try_get("per_user_limit").map_err(map_err)?,
            held: row.try_get("held").map_err(map_err)?,
            last_seq: row.try_get("last_seq").map_err(map_err)?,
        };
        let claims = sqlx::query(
            "SELECT id, pool_key, user_id, qty, seq, fingerprint, claimed_at, released_at \
             FROM claims WHERE pool_key = $1 AND released_at IS NULL",
        )
        .bind(key)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        let claims = claims
            .iter()
            .map(claim_from_row)
            .collect::<Result<_, _>>()?;
        Ok((pool, claims))
    }

    async fn commit_together(&self, writes: &[ClaimWrite]) -> Result<Result<(), Refusal>, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let written = write_all(&mut tx, writes).await?;
        if written.is_ok() {
            tx.commit().await.map_err(map_err)?;
        } else {
            tx.rollback().await.map_err(map_err)?;
        }
        Ok(written)
    }
}
