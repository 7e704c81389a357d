//! `/api/v1/drops/{id}/queue`: the waiting room in front of a drop. Buyers join, watch their
//! place (by polling or server-sent events) and get a pass once admitted; the drop's seller sees
//! the room's numbers.

pub(crate) mod events;
mod join;
mod me;
mod stats;

use chrono::{DateTime, Utc};
use rushline_app::rooms;
use rushline_gate::room::{Ticket, TicketState};
use serde::Serialize;
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

/// A poll of the buyer's place (see [`rooms::poll`]), as the buyer sees it.
async fn poll(state: &AppState, id: Uuid, user: Uuid) -> Result<QueueTicket, ApiError> {
    let ticket = rooms::poll(state, id, user).await?;
    Ok(QueueTicket::of(state, id, user, ticket))
}
