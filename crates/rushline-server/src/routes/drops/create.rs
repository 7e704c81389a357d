use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::drops;
use rushline_domain::{Allocation, DropTerms, FieldErrors, RaffleTerms, WaitingRoomTerms, Won};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{DropView, RaffleRequest, WaitingRoom};
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
    #[schema(value_type = i64)]
    price: Won,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    /// Units one buyer may hold; default 1.
    #[serde(default = "one")]
    per_user_limit: i64,
    /// A waiting room in front of the drop; absent for none.
    #[serde(default)]
    waiting_room: Option<WaitingRoom>,
    /// `fcfs` (default): whoever buys first; `raffle`: entries until `raffle.entries_close_at`,
    /// then a verifiable draw, and winners buy in turn, each within a claim window.
    #[serde(default)]
    allocation: Allocation,
    /// A raffle's terms, only with `allocation: raffle` (absent: the defaults).
    #[serde(default)]
    raffle: Option<RaffleRequest>,
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
    let terms = DropTerms {
        quantity: body.quantity,
        price: body.price,
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        per_user_limit: body.per_user_limit,
    };
    let room = body.waiting_room.map(WaitingRoomTerms::from);
    let raffle = match (body.allocation, body.raffle) {
        (Allocation::Fcfs, None) => None,
        (Allocation::Fcfs, Some(_)) => {
            let mut errors = FieldErrors::new();
            errors.add("raffle", "only a drop with allocation raffle has a raffle");
            return Err(rushline_app::AppError::from(errors).into());
        }
        (Allocation::Raffle, raffle) => Some(RaffleTerms::from(raffle.unwrap_or_default())),
    };
    let key = key.as_ref().map(|key| key.0.as_str());
    let drop =
        drops::create_drop(&state, seller, key, body.product_id, terms, room, raffle).await?;
    Ok((
        StatusCode::CREATED,
        Json(DropView::of(&state, &drop).await?),
    ))
}
