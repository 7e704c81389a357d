//! `/api/v1/drops/{id}/queue`: the waiting room in front of a drop. Buyers join, watch their
//! place (by polling or server-sent events) and get a pass once admitted; the drop's seller sees
//! the room's numbers.

mod events;
mod join;
mod me;
mod stats;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rushline_app::rooms::{room_error, room_key};
use rushline_app::{AppError, ErrorCode};
use rushline_gate::room::{ExpiryReason, RoomSpec, Status, Ticket, TicketState};
use rushline_store::ProductDrop;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join::join))
        .routes(routes!(me::me))
        .routes(routes!(events::events))
        .routes(routes!(stats::stats))
}

/// A buyer's place in the waiting room.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct QueueTicket {
    /// The place's number in the room: the same on every answer about one place, a new one
    /// after the place was lost or its pass used.
    ticket: u64,
    state: QueueState,
    /// 1 for the next buyer to be admitted. Null in the pre-queue (before the opening, when
    /// the order is not drawn yet) and once admitted.
    position: Option<u64>,
    /// From the admissions of the last minute (the configured rate in the room's first minute).
    /// Null when `position` is, or while admission is paused.
    estimated_wait_seconds: Option<i64>,
    /// Once `admitted`: the pass to send in `X-Queue-Pass` when buying. Bound to this buyer and
    /// drop, valid until `pass_expires_at`, used up by a purchase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pass: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pass_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum QueueState {
    Waiting,
    Admitted,
}

impl QueueTicket {
    fn of(state: &AppState, drop: Uuid, user: Uuid, ticket: Ticket) -> Self {
        match ticket.state {
            TicketState::Waiting {
                position,
                estimated_wait,
            } => Self {
                ticket: ticket.ticket,
                state: QueueState::Waiting,
                position,
                estimated_wait_seconds: estimated_wait.map(|wait| wait.num_seconds()),
                pass: None,
                pass_expires_at: None,
            },
            TicketState::Admitted { pass_expires_at } => {
                // In the pass's own whole seconds: when it stops working.
                let pass_expires_at = DateTime::from_timestamp(pass_expires_at.timestamp(), 0)
                    .unwrap_or(pass_expires_at);
                Self {
                    ticket: ticket.ticket,
                    state: QueueState::Admitted,
                    position: None,
                    estimated_wait_seconds: None,
                    pass: Some(state.rooms.pass(drop, user, ticket.ticket, pass_expires_at)),
                    pass_expires_at: Some(pass_expires_at),
                }
            }
        }
    }
}

/// The drop and its room spec; 404 `no_waiting_room` for a drop without one.
async fn room_of(state: &AppState, id: Uuid) -> Result<(Arc<ProductDrop>, RoomSpec), ApiError> {
    let drop = state.drops.get(&state.store, id).await?;
    let spec = state.rooms.spec(&drop).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NoWaitingRoom,
            "this drop has no waiting room: buy directly",
        )
    })?;
    Ok((drop, spec))
}

/// A poll of the buyer's place: admits whoever is due, then reads the place (which keeps a
/// waiting place alive). 410 `queue_expired` once for a lost place, 404 `not_in_queue` for a
/// buyer without one.
async fn poll(state: &AppState, id: Uuid, user: Uuid) -> Result<QueueTicket, ApiError> {
    let (drop, spec) = room_of(state, id).await?;
    let now = state.clock.now();
    state.rooms.admit(&drop, &spec, now).await?;
    let status = state
        .rooms
        .room
        .status(&room_key(drop.id), &spec, user, now)
        .await
        .map_err(room_error)?;
    match status {
        Status::InRoom(ticket) => Ok(QueueTicket::of(state, drop.id, user, ticket)),
        Status::Expired { ticket, reason } => {
            let (reason, message) = match reason {
                ExpiryReason::Abandoned => (
                    "abandoned",
                    "the place was lost: it went unpolled for too long; join again to queue at the back",
                ),
                ExpiryReason::PassExpired => (
                    "pass_expired",
                    "the pass expired unused; join again to queue at the back",
                ),
            };
            Err(AppError::new(ErrorCode::QueueExpired, message)
                .with_details(json!({ "ticket": ticket, "reason": reason }))
                .into())
        }
        Status::NotInQueue => Err(ApiError::new(
            ErrorCode::NotInQueue,
            "you hold no place in this waiting room: join it first",
        )),
    }
}
