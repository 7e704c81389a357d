use axum::extract::State;
use axum::http::StatusCode;
use rushline_app::rooms;
use uuid::Uuid;

use super::QueueTicket;
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
    let ticket = rooms::join(&state, id, buyer.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(QueueTicket::of(&state, id, buyer.id, ticket)),
    ))
}
