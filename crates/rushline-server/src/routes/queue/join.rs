use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::rooms::{room_error, room_key};
use rushline_app::{AppError, ErrorCode};
use rushline_gate::room::JoinOutcome;
use serde_json::json;
use uuid::Uuid;

use super::{QueueTicket, room_of};
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(JoinErrors: [Unauthorized, Forbidden, NotFound, NoWaitingRoom, NotOpen, Closed, RoomUnavailable, DatabaseUnavailable]);

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
        JoinErrors,
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
        return Err(ApiError::new(ErrorCode::Closed, "the drop has closed"));
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
        JoinOutcome::NotOpenYet { queue_opens_at } => Err(AppError::new(
            ErrorCode::NotOpen,
            "the waiting room has not opened yet",
        )
        .with_details(json!({ "queue_opens_at": queue_opens_at }))
        .into()),
    }
}
