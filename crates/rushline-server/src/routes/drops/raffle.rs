//! A raffle drop's entries, an entrant's standing, and the published draw.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::drops::raffle::{self, DrawPage, Entered, MAX_DRAW_PAGE, Standing};
use rushline_app::{AppError, ErrorCode};
use rushline_domain::EntryStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json, Path, Query};

/// An entry. A retry with the same `Idempotency-Key` answers exactly this again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EntryResponse {
    entry_id: Uuid,
    drop_id: Uuid,
    /// `entered`: the draw is at `raffle.entries_close_at`.
    status: EntryStatus,
}

impl From<Entered> for EntryResponse {
    fn from(entered: Entered) -> Self {
        Self {
            entry_id: entered.entry_id,
            drop_id: entered.drop_id,
            status: entered.status,
        }
    }
}

errors!(EnterErrors: [IdempotencyKeyRequired, InvalidIdempotencyKey, Unauthorized, Forbidden, NotFound, AlreadyEntered, NotARaffle, NotOpen, Closed, RequestInProgress, IdempotencyMismatch, DatabaseUnavailable]);

/// Enters the raffle of a raffle drop, from `opens_at` until `raffle.entries_close_at`: one
/// entry per buyer. No stock and no shared row: the entry is written by the group commit. A
/// refusal records nothing.
#[utoipa::path(
    post,
    path = "/api/v1/drops/{id}/entries",
    tag = "raffles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the first answer"),
    ),
    responses((status = 201, body = EntryResponse), EnterErrors)
)]
pub(crate) async fn enter(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(drop_id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<(StatusCode, Json<EntryResponse>), ApiError> {
    let entered = raffle::enter(&state, buyer.id, &key, drop_id).await?;
    Ok((StatusCode::CREATED, Json(entered.into())))
}

/// Where the caller stands in a raffle.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StandingResponse {
    entry_id: Uuid,
    /// `entered` before the draw; then `won` (buy before `claim_until`), `waitlisted` (a place
    /// may still roll down), `purchased`, `expired` (the window passed, or the order lapsed
    /// unpaid: the place rolled on) or `lost` (the raffle ended without a place).
    status: EntryStatus,
    /// The entry's place in the draw order, from 0; absent before the draw.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<i64>,
    /// The end of the claim window, once a place was offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    claim_until: Option<DateTime<Utc>>,
}

impl From<Standing> for StandingResponse {
    fn from(standing: Standing) -> Self {
        Self {
            entry_id: standing.entry_id,
            status: standing.status,
            position: standing.position,
            claim_until: standing.claim_until,
        }
    }
}

errors!(StandingErrors: [Unauthorized, Forbidden, NotFound, NotARaffle]);

/// The caller's entry in a raffle and where it stands; 404 without one.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}/entries/me",
    tag = "raffles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StandingResponse), StandingErrors)
)]
pub(crate) async fn standing(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(drop_id): Path<Uuid>,
) -> Result<Json<StandingResponse>, ApiError> {
    Ok(Json(
        raffle::standing(&state, buyer.id, drop_id).await?.into(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DrawQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Entry ids per list, 1–10,000, default 1,000.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<u32>,
}

/// A raffle's draw, published once drawn, so that anyone can recompute it: the seed (whose
/// SHA-256 is the `seed_commitment` the drop showed from its creation), the entrants in canonical
/// order and the draw order, page by page (both lists from the same index). The algorithm is
/// documented in ARCHITECTURE.md; `rushline raffle verify` recomputes it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DrawView {
    /// The 32-byte seed, hex.
    seed: String,
    /// SHA-256 of the seed, hex.
    seed_commitment: String,
    /// `chacha20-fisher-yates-v1`.
    algorithm: &'static str,
    /// Entries in the draw.
    total: i64,
    /// Entry ids in canonical order (ascending).
    entrants: Vec<Uuid>,
    /// Entry ids in draw order; the first ones were offered places first.
    order: Vec<Uuid>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl From<DrawPage> for DrawView {
    fn from(page: DrawPage) -> Self {
        Self {
            seed: page.seed,
            seed_commitment: page.seed_commitment,
            algorithm: page.algorithm,
            total: page.total,
            entrants: page.entrants,
            order: page.order,
            next_cursor: page.next_cursor,
        }
    }
}

errors!(DrawErrors: [InvalidQuery, InvalidCursor, NotFound, NotARaffle, NotDrawn]);

/// The published draw of a raffle drop. Public; 409 `not_drawn` before the draw, when the seed
/// is still secret.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}/draw",
    tag = "raffles",
    params(("id" = Uuid, Path), DrawQuery),
    responses((status = 200, body = DrawView), DrawErrors)
)]
pub(crate) async fn draw(
    State(state): State<AppState>,
    Path(drop_id): Path<Uuid>,
    Query(query): Query<DrawQuery>,
) -> Result<Json<DrawView>, ApiError> {
    let limit = query.limit.unwrap_or(1_000);
    if !(1..=MAX_DRAW_PAGE).contains(&limit) {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("limit must be between 1 and {MAX_DRAW_PAGE}"),
        )
        .into());
    }
    let page = raffle::draw(&state, drop_id, query.cursor.as_deref(), limit).await?;
    Ok(Json(page.into()))
}
