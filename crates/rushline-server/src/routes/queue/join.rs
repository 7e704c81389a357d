use axum::extract::State;
use axum::http::StatusCode;
use rushline_gate::room::JoinOutcome;
use serde_json::json;
use uuid::Uuid;

use super::{QueueTicket, room_of};
use crate::auth::Buyer;
use crate::rooms::{room_error, room_key};
use crate::{ApiError, AppState, ErrorBody, Json, Path};

/// Takes a place in the drop's waiting room, from `prequeue_minutes` before `opens_at` until the
/// drop closes. Buyers who join before `opens_at` are shuffled at the opening (see `queue_seed`
/// on the drop); later ones queue in arrival order. One place per buyer: joining again answers
/// with the same ticket (and counts as a poll).
#[utoipa::path(
    post,
    path = "/api/v1/drops/{id}/queue",
    tag = "queue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = QueueTicket, description = "The buyer's place: new, or the one held"),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer", body = ErrorBody),
        (status = 404, description = "`not_found`: no such drop; `no_waiting_room`: the drop has no waiting room (buy directly)", body = ErrorBody),
        (status = 409, description = "`not_open`: the queue opens `prequeue_minutes` before the drop (`details.queue_opens_at`); `closed`: the drop has closed", body = ErrorBody),
        (status = 503, description = "`room_unavailable`, `database_unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn join(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<QueueTicket>), ApiError> {
    let (drop, spec) = room_of(&state, id).await?;
    let now = state.clock.now();
    if now >= drop.closes_at {
        return Err(ApiError::conflict("closed", "the drop has closed"));
    }
    state.rooms.admit(&drop, &spec, now).await?;
    let outcome = state
        .rooms
        .room
        .join(&room_key(drop.id), &spec, buyer.id, now)
        .await
        .map_err(room_error)?;
    match outcome {
        JoinOutcome::Joined(ticket) => Ok((
            StatusCode::CREATED,
            Json(QueueTicket::of(&state, drop.id, buyer.id, ticket)),
        )),
        JoinOutcome::NotOpenYet { queue_opens_at } => Err(ApiError::conflict(
            "not_open",
            "the waiting room has not opened yet",
        )
        .with_details(json!({ "queue_opens_at": queue_opens_at }))),
    }
}
