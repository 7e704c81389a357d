//! The OpenAPI document as a whole, checked against what the handlers do.

use axum::http::{Method, StatusCode};
use rushline_testkit::{Backend, TestApp};

/// Every operation is called without a token (path parameters filled with a fresh id, an empty
/// JSON body, an `Idempotency-Key`): those that answer 401 must declare the `bearer` scheme as
/// required, so generated clients send it; those that do not must not require it (an optional
/// token is declared as `[{}, {"bearer": []}]`).
#[tokio::test]
async fn every_operation_that_needs_a_token_declares_bearer_security() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    let id = uuid::Uuid::now_v7().to_string();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let security = operation["security"].as_array();
            let requires_token = security.is_some_and(|requirements| {
                requirements.iter().any(|r| r.get("bearer").is_some())
                    && requirements.iter().all(|r| r.get("bearer").is_some())
            });
            let concrete = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        id.as_str()
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method != Method::GET).then(|| serde_json::json!({}));
            let response = app
                .send(
                    method.clone(),
                    &concrete,
                    body,
                    &[("idempotency-key", "probe")],
                )
                .await;
            if (response.status == StatusCode::UNAUTHORIZED) != requires_token {
                wrong.push(format!(
                    "{method} {path}: {} without a token, security {security:?}",
                    response.status
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
