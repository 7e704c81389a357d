//! Prometheus metrics: request count and latency by route and status, plus process metrics.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rushline_store::Store;

/// Writes per group-commit batch: 1 (an idle writer) up to the writer's cap of 512.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

const LATENCY_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder. The `metrics` facade has one global recorder, so every server in a
/// process (several, in tests) shares it.
#[expect(
    clippy::expect_used,
    reason = "the buckets are a non-empty constant, and only this function installs a recorder"
)]
pub fn prometheus_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("latency buckets are not empty")
                .set_buckets_for_metric(
                    Matcher::Full("rushline_group_commit_batch_size".into()),
                    BATCH_BUCKETS,
                )
                .expect("batch buckets are not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            metrics_process::Collector::default().describe();
            handle
        })
        .clone()
}

/// Renders the metrics; process metrics and the database pool are sampled now, at scrape time.
pub(crate) fn render(handle: &PrometheusHandle, store: &dyn Store) -> String {
    metrics_process::Collector::default().collect();
    // Saturation: in use near max means requests queue for a connection.
    let pool = store.pool_stats();
    metrics::gauge!("rushline_db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("rushline_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.size.saturating_sub(pool.idle)));
    metrics::gauge!("rushline_db_pool_max_connections").set(f64::from(pool.max));
    handle.run_upkeep();
    handle.render()
}

/// Label values come from closed sets, so that no client can grow the series without bound:
/// an invented method is `other`, as a path no route matches is `unmatched`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub(crate) async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}
