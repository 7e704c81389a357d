//! The span of each request but health checks and scrapes: named by its route, continuing the
//! caller's trace when the request carries a W3C `traceparent` (from a load balancer or a
//! client), and marked an error on a 5xx.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::Response;
use opentelemetry_http::HeaderExtractor;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::REQUEST_ID;

const TRACEPARENT: &str = "traceparent";

/// Polled by load balancers and Prometheus: no trace for each poll.
const UNTRACED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The span a request runs in; made inside the router, where the matched route is known.
pub(crate) fn request_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or_default();
    if UNTRACED.contains(&route) {
        return Span::none();
    }
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri(),
        request_id = %id,
        otel.name = format_args!("{} {route}", request.method()),
        otel.kind = "server",
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    // Only a request that names a parent pays for reading it; the propagator is W3C trace
    // context once traces are exported, and reads nothing otherwise.
    if request.headers().contains_key(TRACEPARENT) {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let _ = span.set_parent(parent);
    }
    span
}

/// Records the answer's status on the request's span.
pub(crate) fn record_status<B>(response: &Response<B>, _latency: Duration, span: &Span) {
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
}
