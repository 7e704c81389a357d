//! The HTTP face of rushline: the axum router, one module of handlers per resource, the
//! extractors, the error type every handler answers with, the OpenAPI document, health and
//! metrics.
//!
//! Handlers translate between HTTP and the application (`rushline-app`); they hold no business
//! rules of their own and never talk SQL. Every error leaves through [`ApiError`], so every
//! client sees one error shape.

pub mod auth;
mod error;
mod extract;
mod metrics;
mod openapi;
mod routes;
mod state;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_scalar::{Scalar, Servable};

pub use error::{ApiError, ErrorBody};
pub use extract::{ClientIp, IdempotencyKey, Json, Path, Query, QueuePass};
pub use metrics::prometheus_handle;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application for `state`.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = routes::router().split_for_parts();
    api.merge(Scalar::with_url("/docs", openapi.clone()))
        .merge(openapi::serve(openapi))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(CatchPanicLayer::custom(error::panicked))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Serves `router` on an already-bound listener until `shutdown` resolves, then stops accepting
/// and lets in-flight requests finish (for at most `grace`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        served = &mut server => served,
        () = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "in-flight requests did not finish in time");
            Ok(())
        }
    }
}
