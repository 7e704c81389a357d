use axum::http::{Method, StatusCode};
use rushline_testkit::{TestApp, backend_test};

backend_test! {
    async fn health_readiness_and_metrics(backend: Backend) {
        let app = TestApp::new(backend).await;
        let alive = app.get("/healthz").await;
        alive.assert_status(StatusCode::OK);
        assert_eq!(alive.json()["status"], "ok");

        let ready = app.get("/readyz").await;
        ready.assert_status(StatusCode::OK);
        assert_eq!(ready.json()["database"], "ok");
        let redis_configured = app.node.config.redis.url.is_some();
        assert_eq!(ready.json().get("redis").is_some(), redis_configured);

        let metrics = app.get("/metrics").await;
        metrics.assert_status(StatusCode::OK);
        let text = metrics.text();
        assert!(text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#), "{text}");
        assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
    }
}

#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    for n in 0..50 {
        let method = Method::from_bytes(format!("M{n}X").as_bytes()).unwrap();
        app.send(method, "/healthz", None, &[]).await;
    }
    let text = app.get("/metrics").await.text();
    assert!(!text.contains(r#"method="M0X""#), "{text}");
    assert!(
        text.contains(r#"http_requests_total{method="other",route="/healthz""#),
        "{text}"
    );
}

#[tokio::test]
async fn openapi_document_is_3_1_and_docs_render_it() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await;
    doc.assert_status(StatusCode::OK);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    let docs = app.get("/docs").await;
    docs.assert_status(StatusCode::OK);
    let page = docs.text();
    assert!(
        page.contains("@scalar/api-reference") && page.contains("Fair first-come-first-served"),
        "{page}"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_the_json_error_body() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let missing = app.get("/api/v1/no-such-thing").await;
    missing.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(missing.error_code(), "not_found");

    let wrong_method = app.post("/healthz", serde_json::json!({})).await;
    wrong_method.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let generated = app.get("/healthz").await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let given = app
        .send(
            axum::http::Method::GET,
            "/healthz",
            None,
            &[("x-request-id", "trace-me-42")],
        )
        .await;
    assert_eq!(given.headers["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn an_oversized_json_body_is_413_not_malformed() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    // Well-formed JSON, larger than the 2 MiB a JSON body may have.
    let name = "a".repeat(3 << 20);
    let body =
        serde_json::json!({"email": "big@example.com", "password": "s3cret!pw", "name": name});
    let response = app.post("/api/v1/auth/signup", body).await;
    response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.error_code(), "payload_too_large");
}
