use axum::extract::State;
use rushline_app::trials;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

/// A trial's numbers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrialStatsView {
    /// Applications recorded.
    applicants: i64,
    /// Testers holding a slot now.
    selected: i64,
    /// Seconds from `opens_at` to the last slot taken; null while any slot is free.
    time_to_fill_seconds: Option<f64>,
    /// Reviews written per selected tester (late ones too), 0 to 1.
    review_rate: f64,
    /// The mean rating of the testers' reviews, hidden ones left out; null without any.
    average_rating: Option<f64>,
}

errors!(StatsErrors: [Unauthorized, NotFound]);

/// A trial's statistics. Its seller or an admin; anyone else gets 404.
#[utoipa::path(
    get,
    path = "/api/v1/trials/{id}/stats",
    tag = "trials",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TrialStatsView), StatsErrors)
)]
pub(crate) async fn stats(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<TrialStatsView>, ApiError> {
    let stats = trials::stats(&state, user, id).await?;
    #[expect(
        clippy::cast_precision_loss,
        reason = "microseconds of a trial's window"
    )]
    let time_to_fill_seconds = stats
        .time_to_fill
        .and_then(|t| t.num_microseconds())
        .map(|micros| micros as f64 / 1e6);
    Ok(Json(TrialStatsView {
        applicants: stats.applicants,
        selected: stats.selected,
        time_to_fill_seconds,
        review_rate: stats.review_rate,
        average_rating: stats.average_rating,
    }))
}
