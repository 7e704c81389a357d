use axum::extract::State;
use uuid::Uuid;

use super::{QueueTicket, poll};
use crate::auth::Buyer;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

errors!(MeErrors: [Unauthorized, Forbidden, NotFound, NoWaitingRoom, NotInQueue, QueueExpired, RoomUnavailable, DatabaseUnavailable]);

/// The caller's place: position, estimated wait and state, and the pass once admitted. A poll:
/// a waiting buyer who has not polled (here, by joining again or through `/queue/events`) for
/// `waiting_room.idle_timeout` (two minutes by default) loses the place.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}/queue/me",
    tag = "queue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = QueueTicket), MeErrors)
)]
pub(crate) async fn me(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<Json<QueueTicket>, ApiError> {
    Ok(Json(poll(&state, id, buyer.id).await?))
}
