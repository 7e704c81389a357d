use async_trait::async_trait;
use rushline_domain::{CouponScope, CouponStatus, Discount, OrderStatus, Won};
use rushline_store::{
    CampaignFilter, Coupon, CouponCampaign, CouponFilter, CouponStore, DbError, NewCoupon,
    NewOrder, OrderTransition,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{Db, DbConnection, DbRow, SqlStore, map_err, parse_column, push_window};

const CAMPAIGN_COLUMNS: &str = "id, owner_id, name, total, per_user_limit, claim_starts_at, \
                                claim_ends_at, valid_from, valid_until, discount_kind, \
                                discount_amount, discount_percent, min_order_amount, scope_kind, \
                                scope_id, created_at";
const COUPON_COLUMNS: &str = "id, campaign_id, user_id, status, valid_from, valid_until, \
                              reserved_by_order, claimed_at, updated_at";

fn campaign_from_row(row: &DbRow) -> Result<CouponCampaign, DbError> {
    let kind: String = row.try_get("discount_kind").map_err(map_err)?;
    let amount: Won = row.try_get("discount_amount").map_err(map_err)?;
    let percent: Option<i64> = row.try_get("discount_percent").map_err(map_err)?;
    let discount = match (kind.as_str(), percent) {
        ("fixed", None) => Discount::Fixed { amount },
        ("percent", Some(percent)) => Discount::Percent {
            percent,
            max_amount: amount,
        },
        _ => return Err(DbError::Other(format!("column discount_kind: {kind:?}"))),
    };
    let kind: String = row.try_get("scope_kind").map_err(map_err)?;
    let scope_id: Option<Uuid> = row.try_get("scope_id").map_err(map_err)?;
    let scope = match (kind.as_str(), scope_id) {
        ("store", None) => CouponScope::Store,
        ("seller", Some(seller_id)) => CouponScope::Seller { seller_id },
        ("product", Some(product_id)) => CouponScope::Product { product_id },
        _ => return Err(DbError::Other(format!("column scope_kind: {kind:?}"))),
    };
    Ok(CouponCampaign {
        id: row.try_get("id").map_err(map_err)?,
        owner_id: row.try_get("owner_id").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        total: row.try_get("total").map_err(map_err)?,
        per_user_limit: row.try_get("per_user_limit").map_err(map_err)?,
        claim_starts_at: row.try_get("claim_starts_at").map_err(map_err)?,
        claim_ends_at: row.try_get("claim_ends_at").map_err(map_err)?,
        valid_from: row.try_get("valid_from").map_err(map_err)?,
        valid_until: row.try_get("valid_until").map_err(map_err)?,
        discount,
        min_order_amount: row.try_get("min_order_amount").map_err(map_err)?,
        scope,
        created_at: row.try_get("created_at").map_err(map_err)?,
    })
}

fn coupon_from_row(row: &DbRow) -> Result<Coupon, DbError> {
    Ok(Coupon {
        id: row.try_get("id").map_err(map_err)?,
        campaign_id: row.try_get("campaign_id").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        status: parse_column(row, "status")?,
        valid_from: row.try_get("valid_from").map_err(map_err)?,
        valid_until: row.try_get("valid_until").map_err(map_err)?,
        reserved_by_order: row.try_get("reserved_by_order").map_err(map_err)?,
        claimed_at: row.try_get("claimed_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

/// Issues `coupons` in the group commit's transaction; false when one of them exists already
/// (a replayed claim), and the transaction must be rolled back.
pub(crate) async fn insert_coupons(
    conn: &mut DbConnection,
    coupons: &[&NewCoupon],
) -> Result<bool, DbError> {
    if coupons.is_empty() {
        return Ok(true);
    }
    let mut insert = QueryBuilder::<Db>::new(format!("INSERT INTO coupons ({COUPON_COLUMNS}) "));
    insert.push_values(coupons, |mut row, coupon| {
        row.push_bind(coupon.id)
            .push_bind(coupon.campaign_id)
            .push_bind(coupon.user_id)
            .push_bind(CouponStatus::Available.as_str())
            .push_bind(coupon.valid_from)
            .push_bind(coupon.valid_until)
            .push_bind(None::<Uuid>)
            .push_bind(coupon.claimed_at)
            .push_bind(coupon.claimed_at);
    });
    insert.push(" ON CONFLICT DO NOTHING");
    let inserted = insert
        .build()
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
    Ok(inserted == coupons.len() as u64)
}

/// Reserves the coupon of each of `orders` for it, in the group commit's transaction; false when
/// one is no longer the buyer's, `available` and valid at the order's creation (another order
/// took it), and the transaction must be rolled back.
pub(crate) async fn reserve_coupons(
    conn: &mut DbConnection,
    orders: &[&NewOrder],
) -> Result<bool, DbError> {
    let mut reserving: Vec<(Uuid, &NewOrder)> = orders
        .iter()
        .filter_map(|order| order.redemption.coupon_id.map(|coupon| (coupon, *order)))
        .collect();
    // In id order, so that concurrent writers lock coupons in one order.
    reserving.sort_by_key(|(coupon, _)| *coupon);
    for (coupon, order) in reserving {
        let reserved = sqlx::query(
            "UPDATE coupons SET status = $4, reserved_by_order = $2, updated_at = $3 \
             WHERE id = $1 AND user_id = $5 AND status = $6 AND valid_from <= $3 AND valid_until > $3",
        )
        .bind(coupon)
        .bind(order.id)
        .bind(order.created_at)
        .bind(CouponStatus::Reserved.as_str())
        .bind(order.buyer_id)
        .bind(CouponStatus::Available.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
        if reserved == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What an order's status change means for its coupon, in the change's transaction: used once
/// the order is paid; given back once it no longer holds stock (cancelled, expired, returned),
/// `available` while still valid at the change and `expired` after.
pub(crate) async fn follow_order(
    conn: &mut DbConnection,
    change: &OrderTransition,
) -> Result<(), DbError> {
    if change.to == OrderStatus::Paid {
        sqlx::query(
            "UPDATE coupons SET status = $3, updated_at = $2 WHERE reserved_by_order = $1 AND status = $4",
        )
        .bind(change.order_id)
        .bind(change.at)
        .bind(CouponStatus::Used.as_str())
        .bind(CouponStatus::Reserved.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    if change.from.holds_stock() && !change.to.holds_stock() {
        sqlx::query(
            "UPDATE coupons SET status = CASE WHEN valid_until > $2 THEN $3 ELSE $4 END, \
             reserved_by_order = NULL, updated_at = $2 WHERE reserved_by_order = $1",
        )
        .bind(change.order_id)
        .bind(change.at)
        .bind(CouponStatus::Available.as_str())
        .bind(CouponStatus::Expired.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait]
impl CouponStore for SqlStore {
    async fn create_campaign(&self, campaign: &CouponCampaign) -> Result<(), DbError> {
        let (discount_kind, discount_amount, discount_percent) = match campaign.discount {
            Discount::Fixed { amount } => ("fixed", amount, None),
            Discount::Percent {
                percent,
                max_amount,
            } => ("percent", max_amount, Some(percent)),
        };
        let (scope_kind, scope_id) = match campaign.scope {
            CouponScope::Store => ("store", None),
            CouponScope::Seller { seller_id } => ("seller", Some(seller_id)),
            CouponScope::Product { product_id } => ("product", Some(product_id)),
        };
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        sqlx::query(&format!(
            "INSERT INTO coupon_campaigns ({CAMPAIGN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(campaign.id)
        .bind(campaign.owner_id)
        .bind(&campaign.name)
        .bind(campaign.total)
        .bind(campaign.per_user_limit)
        .bind(campaign.claim_starts_at)
        .bind(campaign.claim_ends_at)
        .bind(campaign.valid_from)
        .bind(campaign.valid_until)
        .bind(discount_kind)
        .bind(discount_amount)
        .bind(discount_percent)
        .bind(campaign.min_order_amount)
        .bind(scope_kind)
        .bind(scope_id)
        .bind(campaign.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        super::claims::insert_pool(
            &mut tx,
            campaign.pool_key(),
            campaign.total,
            i64::from(campaign.per_user_limit),
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }

    async fn campaign(&self, id: Uuid) -> Result<CouponCampaign, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM coupon_campaigns WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        campaign_from_row(&row)
    }

    async fn list_campaigns(
        &self,
        filter: &CampaignFilter,
    ) -> Result<Vec<CouponCampaign>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM coupon_campaigns WHERE 1 = 1"
        ));
        if let Some(owner) = filter.owner_id {
            query.push(" AND owner_id = ").push_bind(owner);
        }
        push_window(
            &mut query,
            filter.window,
            "claim_starts_at",
            "claim_ends_at",
        );
        query
            .push(" ORDER BY claim_starts_at, id LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(campaign_from_row).collect()
    }

    async fn coupon(&self, id: Uuid) -> Result<Coupon, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COUPON_COLUMNS} FROM coupons WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        coupon_from_row(&row)
    }

    async fn list_coupons(&self, filter: &CouponFilter) -> Result<Vec<Coupon>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {COUPON_COLUMNS} FROM coupons WHERE user_id = "
        ));
        query.push_bind(filter.user_id);
        let (available, expired) = (
            CouponStatus::Available.as_str(),
            CouponStatus::Expired.as_str(),
        );
        match filter.status {
            None => {}
            Some(CouponStatus::Available) => {
                query.push(" AND status = ").push_bind(available);
                query.push(" AND valid_until > ").push_bind(filter.now);
            }
            Some(CouponStatus::Expired) => {
                query.push(" AND (status = ").push_bind(expired);
                query.push(" OR (status = ").push_bind(available);
                query.push(" AND valid_until <= ").push_bind(filter.now);
                query.push("))");
            }
            Some(status) => {
                query.push(" AND status = ").push_bind(status.as_str());
            }
        }
        if let Some((claimed_at, id)) = filter.before {
            query.push(" AND (claimed_at < ").push_bind(claimed_at);
            query.push(" OR (claimed_at = ").push_bind(claimed_at);
            query.push(" AND id < ").push_bind(id).push("))");
        }
        query
            .push(" ORDER BY claimed_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(coupon_from_row).collect()
    }
}
