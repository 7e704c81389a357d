//! `/api/v1/drops`: limited allocations sold in a window, and the purchase endpoint.

mod create;
mod delete;
mod get;
mod list;
mod purchase;
mod update;

use chrono::{DateTime, Utc};
use rushline_app::AppError;
use rushline_domain::raffle::DEFAULT_CLAIM_WINDOW_MINUTES;
use rushline_domain::waiting_room::{DEFAULT_PREQUEUE_MINUTES, DEFAULT_SESSION_MINUTES};
use rushline_domain::{Allocation, DropStatus, RaffleTerms, WaitingRoomTerms, Won};
use rushline_gate::PoolKey;
use rushline_store::{ProductDrop, WaitingRoomSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::routes::raffles::RaffleView;
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create::create, list::list))
        .routes(routes!(get::get, update::update, delete::delete))
        .routes(routes!(purchase::purchase))
}

/// A drop as buyers and sellers see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DropView {
    id: Uuid,
    product_id: Uuid,
    seller_id: Uuid,
    quantity: i64,
    /// Units not held by an order, from the claim gate.
    remaining: u64,
    #[schema(value_type = i64)]
    price: Won,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    per_user_limit: i32,
    status: DropStatus,
    /// Null for a drop without a waiting room.
    waiting_room: Option<WaitingRoom>,
    /// The seed the waiting room shuffled the pre-queue with, published once the drop is open:
    /// buyers who joined before `opens_at` are ordered by `sha1_hex(queue_seed + ":" + user_id)`
    /// ascending (user ids lowercase and hyphenated; ties by user id). Null before the opening
    /// and for drops without a waiting room.
    queue_seed: Option<String>,
    /// `fcfs`, or `raffle`: entries, then a draw; only winners buy.
    allocation: Allocation,
    /// A raffle drop's raffle; null for first come, first served.
    raffle: Option<RaffleView>,
}

/// A raffle's terms; absent fields take their defaults.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RaffleRequest {
    /// When entries close and the draw happens: after `opens_at`, before `closes_at`; default
    /// `opens_at` + 1 hour.
    #[serde(default)]
    entries_close_at: Option<DateTime<Utc>>,
    /// How long each winner may buy, 1–10,080 minutes; default 60.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10080, default = json!(DEFAULT_CLAIM_WINDOW_MINUTES))]
    claim_window_minutes: Option<i64>,
}

impl From<RaffleRequest> for RaffleTerms {
    fn from(raffle: RaffleRequest) -> Self {
        Self {
            entries_close_at: raffle.entries_close_at,
            claim_window_minutes: raffle.claim_window_minutes,
        }
    }
}

/// A drop's waiting room. Buyers join from `prequeue_minutes` before `opens_at`; those who join
/// before `opens_at` are shuffled at the opening, later ones queue in arrival order. The room
/// admits `admit_per_minute` buyers, spread evenly over the minute, and never more than
/// `max_active` holding a valid pass; a pass lasts `session_minutes`, and buying needs one.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitingRoom {
    /// Buyers admitted per minute, 1–100,000.
    admit_per_minute: i64,
    /// The most buyers holding a valid pass at once, 1–10,000,000; absent or null for no cap.
    #[serde(default)]
    max_active: Option<i64>,
    /// How long a pass is valid, 1–60 minutes; default 5.
    #[serde(default = "default_session_minutes")]
    session_minutes: i64,
    /// How long before `opens_at` buyers may join, 0–1440 minutes; default 30.
    #[serde(default = "default_prequeue_minutes")]
    prequeue_minutes: i64,
}

fn default_session_minutes() -> i64 {
    DEFAULT_SESSION_MINUTES
}

fn default_prequeue_minutes() -> i64 {
    DEFAULT_PREQUEUE_MINUTES
}

impl From<WaitingRoom> for WaitingRoomTerms {
    fn from(room: WaitingRoom) -> Self {
        Self {
            admit_per_minute: room.admit_per_minute,
            max_active: room.max_active,
            session_minutes: room.session_minutes,
            prequeue_minutes: room.prequeue_minutes,
        }
    }
}

impl From<WaitingRoomSettings> for WaitingRoom {
    fn from(room: WaitingRoomSettings) -> Self {
        Self {
            admit_per_minute: room.admit_per_minute.into(),
            max_active: room.max_active.map(i64::from),
            session_minutes: room.session_minutes.into(),
            prequeue_minutes: room.prequeue_minutes.into(),
        }
    }
}

impl DropView {
    /// The view at the current clock; `remaining` comes from the gate, not the database.
    pub(crate) async fn of(state: &AppState, drop: &ProductDrop) -> Result<Self, ApiError> {
        let remaining = state
            .claims
            .gate
            .remaining(&PoolKey(drop.pool_key()))
            .await?
            .ok_or_else(AppError::not_found)?;
        Ok(Self {
            id: drop.id,
            product_id: drop.product_id,
            seller_id: drop.seller_id,
            quantity: drop.quantity,
            remaining,
            price: drop.price,
            opens_at: drop.opens_at,
            closes_at: drop.closes_at,
            per_user_limit: drop.per_user_limit,
            status: rushline_app::raffles::status(drop, state.clock.now(), remaining),
            waiting_room: drop.waiting_room.map(WaitingRoom::from),
            queue_seed: drop.queue_seed.clone(),
            allocation: drop.allocation,
            raffle: drop.raffle.as_ref().map(RaffleView::from),
        })
    }
}
