//! The OpenAPI document as a whole, checked against what the handlers do.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use rushline_app::ErrorCode;
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

/// The error answers are generated from the one list of codes: every code a response lists is a
/// code of [`ErrorCode`], under its status, and the body's `code` schema enumerates each code
/// once.
#[tokio::test]
async fn every_documented_error_code_is_one_of_the_codes_under_its_status() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    let statuses: HashMap<&str, u16> = ErrorCode::ALL
        .iter()
        .map(|code| (code.as_str(), code.status()))
        .collect();
    assert_eq!(statuses.len(), codes.len(), "two codes share a string");
    assert_eq!(
        doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"],
        serde_json::json!(codes)
    );

    let mut listed = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let status: u16 = status.parse().unwrap();
                if status < 400 {
                    continue;
                }
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
                let description = response["description"].as_str().unwrap();
                for line in description.split("\n\n") {
                    let code = line
                        .strip_prefix('`')
                        .and_then(|rest| rest.split_once('`'))
                        .map(|(code, _)| code)
                        .unwrap_or_else(|| panic!("{method} {path} {status}: {line:?}"));
                    assert_eq!(
                        statuses.get(code),
                        Some(&status),
                        "{method} {path} lists `{code}` under {status}"
                    );
                    listed += 1;
                }
            }
        }
    }
    assert!(listed > 100, "only {listed} codes listed");
}
