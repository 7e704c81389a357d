use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::AppError;
use rushline_app::claims::{Creates, request_id};
use rushline_domain::DropTerms;
use rushline_store::{DbError, ProductDrop};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{DropView, WaitingRoom};
use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateDrop {
    /// One of the seller's own products.
    product_id: Uuid,
    /// Units on sale, 1 to 10,000,000.
    quantity: i64,
    /// Sale price per unit in KRW.
    price: i64,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    /// Units one buyer may hold; default 1.
    #[serde(default = "one")]
    per_user_limit: i64,
    /// A waiting room in front of the drop; absent for none.
    #[serde(default)]
    waiting_room: Option<WaitingRoom>,
}

fn one() -> i64 {
    1
}

errors!(CreateErrors: [InvalidIdempotencyKey, Unauthorized, Forbidden, NotFound, ValidationFailed, IdempotencyMismatch]);

/// Schedules a drop of one of the caller's products.
#[utoipa::path(
    post,
    path = "/api/v1/drops",
    tag = "drops",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the drop the first attempt created"),
    ),
    request_body = CreateDrop,
    responses((status = 201, body = DropView), CreateErrors)
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Seller(seller): Seller,
    key: Option<IdempotencyKey>,
    Json(body): Json<CreateDrop>,
) -> Result<(StatusCode, Json<DropView>), ApiError> {
    let now = state.clock.now();
    let terms = DropTerms {
        quantity: body.quantity,
        price: body.price,
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        per_user_limit: body.per_user_limit,
    };
    let checked = terms.validate(now);
    let mut errors = checked.as_ref().err().cloned().unwrap_or_default();
    let waiting_room = body
        .waiting_room
        .and_then(|room| room.settings(&mut errors));
    errors.into_result(|| ())?;
    let terms = checked.expect("no errors");
    let product = match state.store.product(body.product_id).await {
        Ok(product) if product.seller_id == seller.id && product.deleted_at.is_none() => product,
        Ok(_) | Err(DbError::NotFound) => return Err(AppError::not_found().into()),
        Err(e) => return Err(e.into()),
    };
    let drop = ProductDrop {
        id: key.as_ref().map_or_else(Uuid::now_v7, |key| {
            request_id(seller.id, Creates::Drop, &key.0)
        }),
        product_id: product.id,
        seller_id: seller.id,
        quantity: terms.quantity,
        price: terms.price,
        opens_at: terms.opens_at,
        closes_at: terms.closes_at,
        per_user_limit: i32::try_from(terms.per_user_limit).expect("validated"),
        created_at: now,
        updated_at: now,
        opened_at: None,
        closed_at: None,
        waiting_room,
        queue_seed: None,
    };
    match state.store.create_drop(&drop).await {
        Ok(()) => {}
        Err(DbError::Conflict { .. }) if key.is_some() => return replay(&state, &drop).await,
        Err(e) => return Err(e.into()),
    }
    Ok((
        StatusCode::CREATED,
        Json(DropView::of(&state, &drop).await?),
    ))
}

/// Answers a retried creation with the drop its first attempt created, if it asked for the same.
async fn replay(
    state: &AppState,
    asked: &ProductDrop,
) -> Result<(StatusCode, Json<DropView>), ApiError> {
    let first = state.store.drop_by_id(asked.id).await?;
    let terms = |drop: &ProductDrop| {
        (
            drop.product_id,
            drop.seller_id,
            drop.quantity,
            drop.price,
            drop.opens_at,
            drop.closes_at,
            drop.per_user_limit,
            drop.waiting_room,
        )
    };
    if terms(&first) != terms(asked) {
        return Err(AppError::idempotency_mismatch().into());
    }
    Ok((
        StatusCode::CREATED,
        Json(DropView::of(state, &first).await?),
    ))
}
