//! Liveness, readiness and metrics: what load balancers and Prometheus poll.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState, ErrorBody, Json, Readiness, metrics};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_text))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Alive {
    status: &'static str,
}

/// The process is alive. Touches no dependency.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Alive)))]
pub(crate) async fn healthz() -> Json<Alive> {
    Json(Alive { status: "ok" })
}

/// The node can serve: the database and, when configured, Redis answer.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "ops",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "a dependency is down (`not_ready`)", body = ErrorBody),
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    let readiness = state.readiness().await;
    if readiness.ready() {
        return Ok(Json(readiness));
    }
    let details = serde_json::to_value(&readiness).expect("readiness serialises");
    Err(ApiError::unavailable("not_ready", "a dependency is unreachable").with_details(details))
}

/// Prometheus text format: request counts and latency by route and status, process metrics,
/// and the metrics of each domain.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    responses((status = 200, content_type = "text/plain; version=0.0.4", body = String))
)]
pub(crate) async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        metrics::render(&state.metrics),
    )
}
