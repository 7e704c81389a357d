use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::claims::{Creates, request_id};
use rushline_app::{AppError, ErrorCode};
use rushline_domain::{CampaignTerms, CouponScope, Discount, FieldErrors, Role};
use rushline_store::{CouponCampaign, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::CampaignView;
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCampaign {
    /// 1–100 characters.
    name: String,
    /// Coupons to hand out, 1–10,000,000.
    total: i64,
    /// Coupons one buyer may claim; default 1.
    #[serde(default = "one")]
    per_user_limit: i64,
    claim_starts_at: DateTime<Utc>,
    /// After `claim_starts_at`, and in the future.
    claim_ends_at: DateTime<Utc>,
    valid_from: DateTime<Utc>,
    /// After `valid_from` and after `claim_ends_at`.
    valid_until: DateTime<Utc>,
    /// `{"kind": "fixed", "amount": 5000}` or `{"kind": "percent", "percent": 10, "max_amount": 20000}`.
    discount: Discount,
    /// The least the lines the coupon covers must come to, in KRW; default 0.
    #[serde(default)]
    min_order_amount: i64,
    scope: ScopeRequest,
}

fn one() -> i64 {
    1
}

/// Which lines a new campaign's coupons apply to.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum ScopeRequest {
    /// The whole store: admins only.
    Store,
    /// Every product of the calling seller.
    Seller,
    /// One product: the calling seller's own, or any for an admin.
    Product { product_id: Uuid },
}

errors!(CreateErrors: [InvalidIdempotencyKey, Unauthorized, Forbidden, NotFound, ValidationFailed, InvalidBody, IdempotencyMismatch]);

/// Creates a coupon campaign and its pool of `total` coupons: a seller for their own products
/// (`seller` or `product` scope), an admin for the whole store (`store` scope) or any product.
#[utoipa::path(
    post,
    path = "/api/v1/coupon-campaigns",
    tag = "coupons",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the campaign the first attempt created"),
    ),
    request_body = CreateCampaign,
    responses((status = 201, body = CampaignView), CreateErrors)
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    key: Option<IdempotencyKey>,
    Json(body): Json<CreateCampaign>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    if user.role == Role::Buyer {
        return Err(AppError::forbidden().into());
    }
    let now = state.clock.now();
    let terms = CampaignTerms {
        name: &body.name,
        total: body.total,
        per_user_limit: body.per_user_limit,
        claim_starts_at: body.claim_starts_at,
        claim_ends_at: body.claim_ends_at,
        valid_from: body.valid_from,
        valid_until: body.valid_until,
        discount: body.discount,
        min_order_amount: body.min_order_amount,
    };
    let checked = terms.validate(now);
    let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
    let scope = scope(&state, user, body.scope, &mut errors).await?;
    errors.into_result(|| ())?;
    let terms = checked.expect("no errors");
    let campaign = CouponCampaign {
        id: key.as_ref().map_or_else(Uuid::now_v7, |key| {
            request_id(user.id, Creates::Campaign, &key.0)
        }),
        owner_id: user.id,
        name: body.name.trim().to_owned(),
        total: terms.total,
        per_user_limit: i32::try_from(terms.per_user_limit).expect("validated"),
        claim_starts_at: terms.claim_starts_at,
        claim_ends_at: terms.claim_ends_at,
        valid_from: terms.valid_from,
        valid_until: terms.valid_until,
        discount: terms.discount,
        min_order_amount: terms.min_order_amount,
        scope: scope.expect("no errors, so a scope"),
        created_at: now,
    };
    match state.store.create_campaign(&campaign).await {
        Ok(()) => {}
        Err(DbError::Conflict { .. }) if key.is_some() => return replay(&state, &campaign).await,
        Err(e) => return Err(e.into()),
    }
    Ok((
        StatusCode::CREATED,
        Json(CampaignView::of(&state, &campaign).await?),
    ))
}

/// Answers a retried creation with the campaign its first attempt created, if it asked for the
/// same.
async fn replay(
    state: &AppState,
    asked: &CouponCampaign,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    let first = state.store.campaign(asked.id).await?;
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
        return Err(AppError::idempotency_mismatch().into());
    }
    Ok((
        StatusCode::CREATED,
        Json(CampaignView::of(state, &first).await?),
    ))
}

/// The scope `user` may give a campaign: None (with the reason in `errors`) when it makes no
/// sense for their role; 403 or 404 when it is not theirs to give.
async fn scope(
    state: &AppState,
    user: AuthUser,
    requested: ScopeRequest,
    errors: &mut FieldErrors,
) -> Result<Option<CouponScope>, ApiError> {
    match requested {
        ScopeRequest::Store if user.is_admin() => Ok(Some(CouponScope::Store)),
        ScopeRequest::Store => Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may create a campaign for the whole store",
        )),
        ScopeRequest::Seller if user.is_admin() => {
            errors.add(
                "scope.kind",
                "an admin's campaign covers the store or a product",
            );
            Ok(None)
        }
        ScopeRequest::Seller => Ok(Some(CouponScope::Seller { seller_id: user.id })),
        ScopeRequest::Product { product_id } => match state.store.product(product_id).await {
            Ok(product)
                if product.deleted_at.is_none()
                    && (user.is_admin() || product.seller_id == user.id) =>
            {
                Ok(Some(CouponScope::Product { product_id }))
            }
            Ok(_) | Err(DbError::NotFound) => Err(AppError::not_found().into()),
            Err(e) => Err(e.into()),
        },
    }
}
