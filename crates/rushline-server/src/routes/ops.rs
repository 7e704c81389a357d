//! Liveness, readiness and metrics: what load balancers and Prometheus poll.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rushline_app::{AppError, ErrorCode, Health};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::errors;
use crate::{ApiError, AppState, Json, metrics};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_text))
}

/// A job worker has no API and no readiness to report: a load balancer never sends it requests.
pub(crate) fn worker_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics_text))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Alive {
    status: &'static str,
}

/// What `/readyz` found: each dependency `ok`, `unreachable` or `timed_out` (the cause is
/// logged, never answered).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Readiness {
    #[schema(example = "ok")]
    database: &'static str,
    /// Absent when Redis is not configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ok")]
    redis: Option<&'static str>,
    /// Who takes payments: `sandbox` (approves any card; not for real sales) or `toss`.
    #[schema(example = "toss")]
    payments: &'static str,
    /// Present (`true`) while the node is shutting down: it finishes what reaches it, but wants
    /// no new requests.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    draining: bool,
}

/// The process is alive. Touches no dependency.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Alive)))]
pub(crate) async fn healthz() -> Json<Alive> {
    Json(Alive { status: "ok" })
}

errors!(ReadyzErrors: [NotReady]);

/// The node can serve: the database and, when configured, Redis answer, and it is not shutting
/// down (from SIGTERM on it answers 503 with `"draining": true` for `http.drain_grace`, then
/// stops accepting connections).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "ops",
    responses((status = 200, body = Readiness), ReadyzErrors)
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    let found = state.readiness().await;
    let readiness = Readiness {
        database: found.database.as_str(),
        redis: found.redis.map(Health::as_str),
        payments: state.payments.name(),
        draining: state.is_draining(),
    };
    if found.ready() && !readiness.draining {
        return Ok(Json(readiness));
    }
    #[expect(clippy::expect_used, reason = "readiness is names and booleans")]
    let details = serde_json::to_value(&readiness).expect("readiness serialises");
    Err(AppError::new(
        ErrorCode::NotReady,
        if readiness.draining {
            "the node is shutting down"
        } else {
            "a dependency is unreachable"
        },
    )
    .with_details(details)
    .into())
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
    // What /readyz would answer, so that an alert sees a node no load balancer polls.
    let ready = state.readiness().await.ready() && !state.is_draining();
    ::metrics::gauge!("rushline_ready").set(if ready { 1.0 } else { 0.0 });
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        metrics::render(&state.metrics, state.store.as_ref()),
    )
}
