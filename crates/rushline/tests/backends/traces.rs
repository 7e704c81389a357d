//! Traces over OTLP/HTTP: a node with `telemetry.otlp_endpoint` sends the spans of a purchase to
//! a collector (here the test's own OTLP/HTTP receiver) in the caller's trace, across the
//! request, the gate claim and the group commit, and sends what it still holds when it stops.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use chrono::{TimeDelta, Utc};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use rushline_app::identity::AccessTokens;
use rushline_domain::Role;
use rushline_testkit::TestDb;

use crate::crash::{SECRET, sale, start};

/// What the receiver got: the spans, and the `service.name` of each batch's resource.
#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    services: Vec<String>,
}

/// An OTLP/HTTP receiver: `POST /v1/traces` with a protobuf `ExportTraceServiceRequest`.
async fn receive(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> impl IntoResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new()).into_response();
    };
    let mut received = received.lock().unwrap();
    for resource in request.resource_spans {
        let attributes = resource.resource.map(|r| r.attributes).unwrap_or_default();
        if let Some(service) = string_of(&attributes, "service.name") {
            received.services.push(service);
        }
        for scope in resource.scope_spans {
            received.spans.extend(scope.spans);
        }
    }
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

fn string_of(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref() {
            Some(AnyValue {
                value: Some(Value::StringValue(s)),
            }) => Some(s.clone()),
            Some(AnyValue {
                value: Some(Value::IntValue(i)),
            }) => Some(i.to_string()),
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_is_one_trace_across_request_gate_and_group_commit() {
    let received = Arc::new(Mutex::new(Received::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = format!("http://{}", listener.local_addr().unwrap());
    let receiver = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let db = TestDb::sqlite().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (drop, buyers) = sale(&db.store, 1).await;
    let mut node = start(
        &db.url,
        None,
        data_dir.path(),
        &[
            ("RUSHLINE_TELEMETRY__OTLP_ENDPOINT", &collector),
            ("RUSHLINE_HTTP__DRAIN_GRACE", "0s"),
        ],
    )
    .await;

    // The caller's trace, as a load balancer that traces would pass it on.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let token = AccessTokens::new(SECRET.as_bytes(), TimeDelta::hours(1)).issue(
        buyers[0],
        Role::Buyer,
        Utc::now(),
    );
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/drops/{drop}/purchase", node.url))
        .bearer_auth(token)
        .header("idempotency-key", "traced")
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&serde_json::json!({ "quantity": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());

    // A node that stops sends the spans it still holds.
    let pid = node.child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-s", "TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(60), node.child.wait())
        .await
        .expect("the node stops")
        .unwrap();
    assert!(status.success(), "{status}");

    let received = received.lock().unwrap();
    assert!(
        received.services.iter().all(|s| s == "rushline") && !received.services.is_empty(),
        "{:?}",
        received.services
    );
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let in_trace: HashMap<&str, &Span> = received
        .spans
        .iter()
        .filter(|span| hex(&span.trace_id) == trace_id)
        .map(|span| (span.name.as_str(), span))
        .collect();
    let names: Vec<&str> = received.spans.iter().map(|s| s.name.as_str()).collect();
    let request = in_trace
        .get("POST /api/v1/drops/{id}/purchase")
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {names:?}"));
    assert_eq!(hex(&request.parent_span_id), caller_span);
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(
        string_of(&request.attributes, "http.response.status_code").as_deref(),
        Some("201")
    );
    assert_eq!(
        string_of(&request.attributes, "http.route").as_deref(),
        Some("/api/v1/drops/{id}/purchase")
    );
    for name in ["gate.claim", "group_commit"] {
        let span = in_trace
            .get(name)
            .unwrap_or_else(|| panic!("no {name} span in the caller's trace: {names:?}"));
        assert_eq!(
            span.parent_span_id, request.span_id,
            "{name} is the request's"
        );
    }
    let claim = in_trace["gate.claim"];
    assert_eq!(
        string_of(&claim.attributes, "pool").as_deref(),
        Some("drop")
    );
    assert_eq!(
        string_of(&claim.attributes, "outcome").as_deref(),
        Some("granted")
    );
    let commit = in_trace["group_commit"];
    assert_eq!(
        string_of(&commit.attributes, "outcome").as_deref(),
        Some("Committed")
    );
    // The batch that committed it is a span of the writer's, linked to the purchase's wait.
    let batch = received
        .spans
        .iter()
        .find(|span| {
            span.name == "group_commit.batch"
                && span
                    .links
                    .iter()
                    .any(|link| link.trace_id == commit.trace_id && link.span_id == commit.span_id)
        })
        .unwrap_or_else(|| panic!("no batch span links to the purchase: {names:?}"));
    assert_eq!(string_of(&batch.attributes, "writes").as_deref(), Some("1"));
}
