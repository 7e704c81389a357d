//! Coupons and points at checkout, creating campaigns, and campaigns on the hot path: a
//! campaign's terms are read from the database at most once per campaign and node while in use,
//! so that a burst of claims ([`claim`]) costs no database read for the campaign itself.

mod claim;
mod create;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::future::Cache;
use rushline_domain::money::MAX_ORDER_TOTAL;
use rushline_domain::pricing::{self, CouponTerms, PriceError, PricedLine};
use rushline_domain::{CouponStatus, FieldErrors, Won};
use rushline_store::{CouponCampaign, DbError, Redemption, Store};
use serde_json::json;
use uuid::Uuid;

use crate::{App, AppError, ErrorCode};

pub use claim::{ClaimedCoupon, claim};
pub use create::{RequestedScope, create_campaign};

/// Campaigns never change once created, so a copy is never stale; it is dropped only when
/// unused for this long, to bound memory.
const IDLE_FOR: Duration = Duration::from_secs(10 * 60);

pub struct CampaignCache {
    campaigns: Cache<Uuid, Arc<CouponCampaign>>,
}

impl Default for CampaignCache {
    fn default() -> Self {
        Self {
            campaigns: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(IDLE_FOR)
                .build(),
        }
    }
}

impl CampaignCache {
    /// The campaign, from this node's copy or, on first use, from the store.
    pub async fn get(
        &self,
        store: &Arc<dyn Store>,
        id: Uuid,
    ) -> Result<Arc<CouponCampaign>, AppError> {
        self.campaigns
            .try_get_with(id, async { store.campaign(id).await.map(Arc::new) })
            .await
            .map_err(|e: Arc<DbError>| AppError::from((*e).clone()))
    }
}

/// What a checkout asks to redeem: a coupon of the buyer's wallet, and points to spend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redeem {
    pub coupon_id: Option<Uuid>,
    pub points: Won,
}

impl Redeem {
    pub fn is_nothing(&self) -> bool {
        self.coupon_id.is_none() && self.points == Won::ZERO
    }

    /// The fingerprint of a request for `parts` that redeems this (see
    /// [`crate::claims::fingerprint`]), so that a reused key with another coupon or other points
    /// is told from a retry. A request redeeming nothing keeps the fingerprint of `parts` alone.
    pub fn fingerprint(&self, parts: &[&[u8]]) -> u64 {
        if self.is_nothing() {
            return crate::claims::fingerprint(parts);
        }
        let coupon = self
            .coupon_id
            .map_or_else(Vec::new, |id| id.as_bytes().to_vec());
        let points = self.points.get().to_be_bytes();
        let mut all = parts.to_vec();
        all.extend([coupon.as_slice(), points.as_slice()]);
        crate::claims::fingerprint(&all)
    }
}

/// Prices an order's lines with what the buyer redeems: checks the coupon (the buyer's,
/// `available`, valid at `now`, its scope covering a line, its minimum met) and the points
/// (at most the balance, at most what the coupon left), then applies the domain's math.
/// Returns the total to charge and the redemption to write with the order, where the group
/// commit checks the coupon and the balance again. Reads nothing when nothing is redeemed.
pub async fn price(
    app: &App,
    buyer: Uuid,
    lines: &[PricedLine],
    redeem: Redeem,
    now: DateTime<Utc>,
) -> Result<(Won, Redemption), AppError> {
    if redeem.is_nothing() {
        let subtotal = pricing::subtotal(lines).map_err(refused)?;
        return Ok((subtotal, Redemption::default()));
    }
    let coupon = match redeem.coupon_id {
        Some(id) => Some(usable_coupon(app, buyer, id, now).await?),
        None => None,
    };
    let balance = if redeem.points > Won::ZERO {
        app.store.points_balance(buyer).await?
    } else {
        Won::ZERO
    };
    let price = pricing::price(lines, coupon.as_ref(), redeem.points, balance).map_err(refused)?;
    Ok((
        price.total,
        Redemption {
            coupon_id: redeem.coupon_id,
            discount: price.discount,
            points: price.points,
        },
    ))
}

/// The terms of the buyer's coupon `id`, if it can be used at `now`.
async fn usable_coupon(
    app: &App,
    buyer: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<CouponTerms, AppError> {
    let coupon = match app.store.coupon(id).await {
        Ok(coupon) if coupon.user_id == buyer => coupon,
        // Another buyer's coupon is as unknown as a missing one.
        Ok(_) | Err(DbError::NotFound) => {
            return Err(AppError::new(
                ErrorCode::CouponNotFound,
                "no such coupon in your wallet",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    match coupon.status.shown(coupon.valid_until, now) {
        CouponStatus::Available if now < coupon.valid_from => {
            return Err(AppError::new(
                ErrorCode::CouponNotYetValid,
                format!("the coupon is valid from {}", coupon.valid_from),
            ));
        }
        CouponStatus::Available => {}
        CouponStatus::Reserved | CouponStatus::Used => return Err(coupon_unavailable()),
        CouponStatus::Expired => {
            return Err(AppError::new(
                ErrorCode::CouponExpired,
                "the coupon's validity has ended",
            ));
        }
    }
    let campaign = app.campaigns.get(&app.store, coupon.campaign_id).await?;
    Ok(CouponTerms {
        discount: campaign.discount,
        min_order_amount: campaign.min_order_amount,
        scope: campaign.scope,
    })
}

fn refused(error: PriceError) -> AppError {
    match error {
        PriceError::TooLarge => order_too_large(),
        PriceError::NotApplicable => AppError::new(
            ErrorCode::CouponNotApplicable,
            "the coupon covers none of the order's products",
        ),
        PriceError::BelowMinimum { minimum, covered } => AppError::new(
            ErrorCode::CouponMinimumNotMet,
            format!(
                "the coupon needs {minimum} won of the products it covers; the order has {covered}"
            ),
        )
        .with_details(json!({ "min_order_amount": minimum, "covered_amount": covered })),
        PriceError::NegativePoints => {
            AppError::validation(json!({ "points": ["must be 0 or more"] }))
        }
        PriceError::PointsExceedBalance { balance } => {
            insufficient_points().with_details(json!({ "balance": balance }))
        }
        PriceError::PointsExceedTotal { payable } => AppError::new(
            ErrorCode::PointsExceedTotal,
            format!("at most {payable} points can pay for this order"),
        )
        .with_details(json!({ "payable": payable })),
    }
}

/// The lines would cost more than an order may: the quantity is what a buyer can lower.
pub fn order_too_large() -> AppError {
    let mut errors = FieldErrors::new();
    errors.add(
        "quantity",
        format!("the order would cost more than {MAX_ORDER_TOTAL} won"),
    );
    errors.into()
}

/// The coupon is reserved by or used on an order: checked before the order, or refused by its
/// group commit when another order took it meanwhile.
pub fn coupon_unavailable() -> AppError {
    AppError::new(
        ErrorCode::CouponUnavailable,
        "the coupon is applied to another order or used",
    )
}

/// More points than the balance: checked before the order, or refused by its group commit when
/// other orders spent them meanwhile.
pub fn insufficient_points() -> AppError {
    AppError::new(ErrorCode::InsufficientPoints, "not enough points")
}
