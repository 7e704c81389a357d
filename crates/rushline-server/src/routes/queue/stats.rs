use axum::extract::State;
use rushline_app::rooms;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

/// The waiting room's numbers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueueStats {
    /// Places in line, the pre-queue included.
    waiting: u64,
    /// Buyers admitted since the room opened.
    admitted: u64,
    /// Passes neither used nor expired: the buyers who may buy now.
    active: u64,
    /// Admissions in the last minute: the observed rate.
    admissions_per_minute: u64,
    /// Places lost because their holder stopped polling.
    abandoned: u64,
    /// The most places in line at once, the pre-queue included.
    peak_waiting: u64,
    /// Admitted buyers who bought (passes used).
    bought: u64,
    /// The median wait of the buyers admitted so far, from entering the line (the join, or
    /// `opens_at` for the pre-queue) to admission, in whole seconds (the lower median); null
    /// before the first admission.
    median_wait_seconds: Option<i64>,
}

errors!(StatsErrors: [Unauthorized, NotFound, NoWaitingRoom, RoomUnavailable, DatabaseUnavailable]);

/// The room's numbers, for the drop's seller or an admin.
#[utoipa::path(
    get,
    path = "/api/v1/drops/{id}/queue/stats",
    tag = "queue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = QueueStats), StatsErrors)
)]
pub(crate) async fn stats(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<QueueStats>, ApiError> {
    let stats = rooms::stats(&state, user.id, user.is_admin(), id).await?;
    Ok(Json(QueueStats {
        waiting: stats.waiting,
        admitted: stats.admitted,
        active: stats.active,
        admissions_per_minute: stats.admitted_last_minute,
        abandoned: stats.abandoned,
        peak_waiting: stats.peak_waiting,
        bought: stats.used,
        median_wait_seconds: stats.median_wait.map(|wait| wait.num_seconds()),
    }))
}
