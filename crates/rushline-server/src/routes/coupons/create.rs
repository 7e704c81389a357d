use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::coupons::{self, RequestedScope};
use rushline_domain::{CampaignTerms, Discount, Won};
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
    #[schema(value_type = i64)]
    min_order_amount: Won,
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
    let scope = match body.scope {
        ScopeRequest::Store => RequestedScope::Store,
        ScopeRequest::Seller => RequestedScope::Seller,
        ScopeRequest::Product { product_id } => RequestedScope::Product(product_id),
    };
    let key = key.as_ref().map(|key| key.0.as_str());
    let campaign = coupons::create_campaign(&state, user, key, terms, scope).await?;
    Ok((
        StatusCode::CREATED,
        Json(CampaignView::of(&state, &campaign).await?),
    ))
}
