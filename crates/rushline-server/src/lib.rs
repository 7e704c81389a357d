//! The HTTP face of rushline: the axum router, one module of handlers per resource, the
//! extractors, the error type every handler answers with, the OpenAPI document, health and
//! metrics.
//!
//! Handlers translate between HTTP and the application (`rushline-app`); they hold no business
//! rules of their own and never talk SQL. Every error leaves through [`ApiError`], so every
//! client sees one error shape.

pub mod auth;
mod charts;
mod error;
mod extract;
mod metrics;
mod openapi;
mod pages;
mod routes;
mod serve;
mod state;
mod traces;

use std::time::Duration;

use axum::Router;
use axum::http::HeaderName;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

pub use error::{ApiError, ErrorBody};
pub use extract::{ClientIp, IdempotencyKey, Json, Path, Query, QueuePass, TrustedProxies};
pub use metrics::prometheus_handle;
pub use serve::{HttpLimits, serve};
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application for `state`; a request not answered within `request_timeout` is
/// answered 503 `request_timeout`.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let (api, mut openapi) = routes::router().split_for_parts();
    openapi::add_extractor_errors(&mut openapi);
    // Swagger UI's files are compiled into the binary (the crate's `vendored` feature), so
    // `/docs` needs no network; it reads the document `openapi::serve` publishes.
    api.merge(SwaggerUi::new("/docs").config(SwaggerConfig::new(["/openapi.json"])))
        .merge(openapi::serve(openapi))
        .merge(pages::router(state.clone()))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            request_timeout,
            serve::time_limit,
        ))
        // A layer, not a route layer, so that paths no route matches are counted (as one
        // `unmatched` route).
        .layer(axum::middleware::from_fn(metrics::track))
        // Inside the request's span too, so that a panic is a 500 on it.
        .route_layer(CatchPanicLayer::custom(error::panicked))
        .route_layer(
            TraceLayer::new_for_http()
                .make_span_with(traces::request_span)
                .on_response(traces::record_status),
        )
        .layer(CatchPanicLayer::custom(error::panicked))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// What a job worker serves on its own address: `/healthz` and `/metrics`, nothing of the API.
pub fn worker_router(state: AppState) -> Router {
    let (ops, _) = routes::worker_router().split_for_parts();
    ops.fallback(error::not_found)
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
}
