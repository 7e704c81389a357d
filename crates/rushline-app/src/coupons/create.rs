//! Creating a coupon campaign: a seller's for their products, an admin's for the store or any
//! product; idempotent under a key.

use rushline_domain::{CampaignTerms, CouponScope, FieldErrors, Role};
use rushline_store::{CouponCampaign, DbError};
use uuid::Uuid;

use crate::claims::{Creates, created_id};
use crate::{App, AppError, AuthUser, ErrorCode};

/// Which lines a new campaign's coupons are to apply to.
#[derive(Debug, Clone, Copy)]
pub enum RequestedScope {
    /// The whole store: admins only.
    Store,
    /// Every product of the calling seller.
    Seller,
    /// One product: the calling seller's own, or any for an admin.
    Product(Uuid),
}

/// Creates a campaign of `caller`'s. With an idempotency `key`, a retry gets the campaign the
/// first attempt created, and different terms under the same key `idempotency_mismatch`.
pub async fn create_campaign(
    app: &App,
    caller: AuthUser,
    key: Option<&str>,
    terms: CampaignTerms<'_>,
    requested: RequestedScope,
) -> Result<CouponCampaign, AppError> {
    if caller.role == Role::Buyer {
        return Err(AppError::forbidden());
    }
    let now = app.clock.now();
    let checked = terms.validate(now);
    let scope = scope(app, caller, requested).await?;
    let (checked, scope) = FieldErrors::both(checked, scope)?;
    let campaign = CouponCampaign {
        id: created_id(caller.id, Creates::Campaign, key),
        owner_id: caller.id,
        name: checked.name,
        total: checked.total,
        per_user_limit: checked.per_user_limit,
        claim_starts_at: checked.claim_starts_at,
        claim_ends_at: checked.claim_ends_at,
        valid_from: checked.valid_from,
        valid_until: checked.valid_until,
        discount: checked.discount,
        min_order_amount: checked.min_order_amount,
        scope,
        created_at: now,
    };
    match app.store.create_campaign(&campaign).await {
        Ok(()) => Ok(campaign),
        Err(DbError::Conflict { .. }) if key.is_some() => replay(app, &campaign).await,
        Err(e) => Err(e.into()),
    }
}

/// The campaign a retried creation's first attempt created, if it asked for the same.
async fn replay(app: &App, asked: &CouponCampaign) -> Result<CouponCampaign, AppError> {
    let first = app.store.campaign(asked.id).await?;
    let terms = |campaign: &CouponCampaign| {
        (
            campaign.owner_id,
            campaign.name.clone(),
            campaign.total,
            campaign.per_user_limit,
            [
                campaign.claim_starts_at,
                campaign.claim_ends_at,
                campaign.valid_from,
                campaign.valid_until,
            ],
            campaign.discount,
            campaign.min_order_amount,
            campaign.scope,
        )
    };
    if terms(&first) != terms(asked) {
        return Err(AppError::idempotency_mismatch());
    }
    Ok(first)
}

/// The scope `caller` may give a campaign: a field error when it makes no sense for their role;
/// 403 or 404 when it is not theirs to give.
async fn scope(
    app: &App,
    caller: AuthUser,
    requested: RequestedScope,
) -> Result<Result<CouponScope, FieldErrors>, AppError> {
    match requested {
        RequestedScope::Store if caller.is_admin() => Ok(Ok(CouponScope::Store)),
        RequestedScope::Store => Err(AppError::new(
            ErrorCode::Forbidden,
            "only an admin may create a campaign for the whole store",
        )),
        RequestedScope::Seller if caller.is_admin() => {
            let mut errors = FieldErrors::new();
            errors.add(
                "scope.kind",
                "an admin's campaign covers the store or a product",
            );
            Ok(Err(errors))
        }
        RequestedScope::Seller => Ok(Ok(CouponScope::Seller {
            seller_id: caller.id,
        })),
        RequestedScope::Product(product_id) => match app.store.product(product_id).await {
            Ok(product)
                if product.deleted_at.is_none()
                    && (caller.is_admin() || product.seller_id == caller.id) =>
            {
                Ok(Ok(CouponScope::Product { product_id }))
            }
            Ok(_) | Err(DbError::NotFound) => Err(AppError::not_found()),
            Err(e) => Err(e.into()),
        },
    }
}
