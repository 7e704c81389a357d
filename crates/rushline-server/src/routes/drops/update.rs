use axum::extract::State;
use chrono::{DateTime, Utc};
use rushline_app::drops::{self, DropChanges};
use rushline_domain::{WaitingRoomTerms, Won};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{DropView, WaitingRoom};
use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateDrop {
    quantity: Option<i64>,
    #[schema(value_type = Option<i64>)]
    price: Option<Won>,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
    per_user_limit: Option<i64>,
    /// Replaces the waiting room; null removes it, absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<WaitingRoom>, nullable)]
    waiting_room: Option<Option<WaitingRoom>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`, by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

errors!(UpdateErrors: [Unauthorized, NotFound, NotScheduled, ValidationFailed]);

/// Changes a drop's terms while it is scheduled (before `opens_at`). Its seller or an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/drops/{id}",
    tag = "drops",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = UpdateDrop,
    responses((status = 200, body = DropView), UpdateErrors)
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateDrop>,
) -> Result<Json<DropView>, ApiError> {
    let changes = DropChanges {
        quantity: body.quantity,
        price: body.price,
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        per_user_limit: body.per_user_limit,
        waiting_room: body
            .waiting_room
            .map(|room| room.map(WaitingRoomTerms::from)),
    };
    let drop = drops::update_drop(&state, user, id, changes).await?;
    Ok(Json(DropView::of(&state, &drop).await?))
}
