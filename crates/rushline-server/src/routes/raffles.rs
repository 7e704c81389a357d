//! Raffles of drops and trials: entries, an entrant's standing, and the published draw, under
//! `/api/v1/drops/{id}/…` and `/api/v1/trials/{id}/…` alike.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rushline_app::raffles::{self as raffle, DrawPage, Entered, MAX_DRAW_PAGE, Standing};
use rushline_app::{AppError, ErrorCode};
use rushline_domain::EntryStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use rushline_store::{RaffleKind, RaffleSettings};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, IdempotencyKey, Json, Path, Query};

/// A raffle drop's or trial's raffle as everyone sees it: never its seed before the draw.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RaffleView {
    /// When entries close and the draw happens (a trial's: its `closes_at`).
    entries_close_at: DateTime<Utc>,
    /// How long each winner of a drop may buy; absent for a trial, whose winners are selected.
    #[serde(skip_serializing_if = "Option::is_none")]
    claim_window_minutes: Option<i32>,
    /// SHA-256 (hex) of the secret seed the draw will use, published from the drop's creation;
    /// the seed itself is published at the draw (`GET …/{id}/draw`).
    seed_commitment: String,
    /// Null until the draw.
    drawn_at: Option<DateTime<Utc>>,
    /// Entries in the draw; null until the draw.
    entrants: Option<i64>,
}

impl From<&RaffleSettings> for RaffleView {
    fn from(raffle: &RaffleSettings) -> Self {
        Self {
            entries_close_at: raffle.entries_close_at,
            claim_window_minutes: raffle.claim_window_minutes,
            seed_commitment: raffle.seed_commitment.clone(),
            drawn_at: raffle.drawn_at,
            entrants: raffle.entrants,
        }
    }
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enter_drop))
        .routes(routes!(drop_standing))
        .routes(routes!(drop_draw))
        .routes(routes!(enter_trial))
        .routes(routes!(trial_standing))
        .routes(routes!(trial_draw))
}

/// An entry. A retry with the same `Idempotency-Key` answers exactly this again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EntryResponse {
    entry_id: Uuid,
    /// The drop's or the trial's id.
    raffle_id: Uuid,
    /// `entered`: the draw is at `raffle.entries_close_at`.
    status: EntryStatus,
}

impl From<Entered> for EntryResponse {
    fn from(entered: Entered) -> Self {
        Self {
            entry_id: entered.entry_id,
            raffle_id: entered.raffle_id,
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
pub(crate) async fn enter_drop(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<(StatusCode, Json<EntryResponse>), ApiError> {
    let entered = raffle::enter(&state, buyer.id, &key, RaffleKind::Drop, id, None).await?;
    Ok((StatusCode::CREATED, Json(entered.into())))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrialEntryRequest {
    /// Why the buyer wants to test the product: up to 1,000 characters, line breaks allowed,
    /// no other control characters. Shown to the trial's seller if selected.
    #[serde(default)]
    motivation: Option<String>,
}

errors!(EnterTrialErrors: [IdempotencyKeyRequired, InvalidIdempotencyKey, Unauthorized, Forbidden, NotFound, AlreadyEntered, NotARaffle, NotOpen, Closed, Paused, RequestInProgress, ValidationFailed, IdempotencyMismatch, DatabaseUnavailable]);

/// Enters the raffle of a raffle trial while it is open (not while paused): one entry per buyer.
/// At `closes_at` the draw selects `slots` entrants in draw order (passing over a barred one);
/// a selected tester who cancels passes the slot to the next, until the first review deadline.
#[utoipa::path(
    post,
    path = "/api/v1/trials/{id}/entries",
    tag = "raffles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; a retry with the same key returns the first answer"),
    ),
    request_body(content = Option<TrialEntryRequest>),
    responses((status = 201, body = EntryResponse), EnterTrialErrors)
)]
pub(crate) async fn enter_trial(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
    IdempotencyKey(key): IdempotencyKey,
    body: Option<Json<TrialEntryRequest>>,
) -> Result<(StatusCode, Json<EntryResponse>), ApiError> {
    let motivation = body.and_then(|Json(body)| body.motivation);
    let entered = raffle::enter(&state, buyer.id, &key, RaffleKind::Trial, id, motivation).await?;
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

/// The caller's entry in a drop's raffle and where it stands; 404 without one.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}/entries/me",
    tag = "raffles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StandingResponse), StandingErrors)
)]
pub(crate) async fn drop_standing(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<Json<StandingResponse>, ApiError> {
    let standing = raffle::standing(&state, buyer.id, RaffleKind::Drop, id).await?;
    Ok(Json(standing.into()))
}

/// The caller's entry in a trial's raffle and where it stands (`won`: selected, see
/// `GET /api/v1/me/trials`; `expired`: the slot was given back or the entrant was barred); 404
/// without one.
#[utoipa::path(
    get,
    path = "/api/v1/trials/{id}/entries/me",
    tag = "raffles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StandingResponse), StandingErrors)
)]
pub(crate) async fn trial_standing(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<Json<StandingResponse>, ApiError> {
    let standing = raffle::standing(&state, buyer.id, RaffleKind::Trial, id).await?;
    Ok(Json(standing.into()))
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
pub(crate) async fn drop_draw(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<DrawQuery>,
) -> Result<Json<DrawView>, ApiError> {
    draw(&state, RaffleKind::Drop, id, query).await
}

/// The published draw of a raffle trial. Public; 409 `not_drawn` before the draw.
#[utoipa::path(
    get,
    path = "/api/v1/trials/{id}/draw",
    tag = "raffles",
    params(("id" = Uuid, Path), DrawQuery),
    responses((status = 200, body = DrawView), DrawErrors)
)]
pub(crate) async fn trial_draw(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(query): Query<DrawQuery>,
) -> Result<Json<DrawView>, ApiError> {
    draw(&state, RaffleKind::Trial, id, query).await
}

async fn draw(
    state: &AppState,
    kind: RaffleKind,
    id: Uuid,
    query: DrawQuery,
) -> Result<Json<DrawView>, ApiError> {
    let limit = query.limit.unwrap_or(1_000);
    if !(1..=MAX_DRAW_PAGE).contains(&limit) {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("limit must be between 1 and {MAX_DRAW_PAGE}"),
        )
        .into());
    }
    let page = raffle::draw(state, kind, id, query.cursor.as_deref(), limit).await?;
    Ok(Json(page.into()))
}
