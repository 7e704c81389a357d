use axum::extract::State;
use uuid::Uuid;

use super::{QueueTicket, poll};
use crate::auth::Buyer;
use crate::{ApiError, AppState, ErrorBody, Json, Path};

/// The caller's place: position, estimated wait and state, and the pass once admitted. A poll:
/// a waiting buyer who has not polled (here, by joining again or through `/queue/events`) for
/// `waiting_room.idle_timeout` (two minutes by default) loses the place.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}/queue/me",
    tag = "queue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = QueueTicket),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer", body = ErrorBody),
        (status = 404, description = "`not_found`: no such drop; `no_waiting_room`: the drop has no waiting room; `not_in_queue`: the caller holds no place (never joined, pass used, or expiry already reported)", body = ErrorBody),
        (status = 410, description = "`queue_expired`: the place was lost (`details.reason`: `abandoned` after two minutes without a poll, `pass_expired` for a pass left unused); said once, then the buyer may join again at the back", body = ErrorBody),
        (status = 503, description = "`room_unavailable`, `database_unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn me(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    Path(id): Path<Uuid>,
) -> Result<Json<QueueTicket>, ApiError> {
    Ok(Json(poll(&state, id, buyer.id).await?))
}
