//! The OpenAPI document as a whole, checked against what the handlers do.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use rushline_app::ErrorCode;
use rushline_domain::Role;
use rushline_testkit::{Backend, TestApp, TestResponse};

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

/// Every answer to a request an extractor or a role check refuses is one the operation documents:
/// each operation is called anonymously and as a buyer, a seller and an admin, with a fresh id, a
/// path parameter that is no id, a body that is no JSON, a body without a media type and a query
/// parameter out of range. The status must be among the operation's responses and, for an error,
/// its code listed under that status (as schemathesis checks in `scripts/fuzz-api.sh`).
#[tokio::test]
async fn every_refusal_of_a_malformed_or_unauthorised_request_is_documented() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    let mut bearers = vec![None];
    for role in [Role::Buyer, Role::Seller, Role::Admin] {
        bearers.push(Some(app.user(role).await.bearer()));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let mut wrong = Vec::new();
    let mut probes = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let json_body =
                operation["requestBody"]["content"]
                    .as_object()
                    .is_some_and(|content| {
                        content.len() == 1 && content.contains_key("application/json")
                    });
            // A stream the caller may open never ends: only its refusals are probed.
            let streams = operation["responses"]["200"]["content"]
                .get("text/event-stream")
                .is_some();
            let has_query = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let with_path = |value: &str| {
                path.split('/')
                    .map(|s| if s.starts_with('{') { value } else { s })
                    .collect::<Vec<_>>()
                    .join("/")
            };
            // (what, uri, content type, body)
            let mut cases = vec![(
                "a fresh id",
                with_path(&id),
                json_body.then_some("application/json"),
                if json_body { "{}" } else { "" },
            )];
            if path.contains('{') {
                cases.push(("no id in the path", with_path("not-an-id"), None, ""));
            }
            if json_body {
                cases.push(("no JSON", with_path(&id), Some("application/json"), "{"));
                cases.push(("no media type", with_path(&id), None, "{}"));
            }
            if has_query {
                cases.push((
                    "a bad query",
                    format!("{}?limit=-1", with_path(&id)),
                    None,
                    "",
                ));
            }
            for (what, uri, content_type, body) in cases {
                for bearer in &bearers {
                    if streams && bearer.is_some() && !path.contains('{') {
                        continue;
                    }
                    let mut request = Request::builder()
                        .method(method.clone())
                        .uri(&uri)
                        .header("idempotency-key", uuid::Uuid::now_v7().to_string());
                    if let Some(bearer) = bearer {
                        request = request.header(header::AUTHORIZATION, bearer);
                    }
                    if let Some(content_type) = content_type {
                        request = request.header(header::CONTENT_TYPE, content_type);
                    }
                    let response = app.request(request.body(Body::from(body)).unwrap()).await;
                    probes += 1;
                    if let Some(problem) = undocumented(operation, &response) {
                        let who = bearer.as_ref().map_or("anonymous", |_| "signed in");
                        wrong.push(format!("{method} {uri} ({what}, {who}): {problem}"));
                    }
                }
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(probes > 300, "only {probes} probes");
}

/// Why `response` is not one `operation` documents, if it is not.
fn undocumented(operation: &serde_json::Value, response: &TestResponse) -> Option<String> {
    let status = response.status.as_u16().to_string();
    let Some(documented) = operation["responses"].get(&status) else {
        let listed: Vec<&String> = operation["responses"].as_object().unwrap().keys().collect();
        return Some(format!("{status} {} not in {listed:?}", response.text()));
    };
    if response.status.as_u16() < 400 {
        return None;
    }
    let code = response.error_code();
    let description = documented["description"].as_str().unwrap_or_default();
    (!description.contains(&format!("`{code}`:")))
        .then(|| format!("{status} `{code}` not listed under {status}"))
}

/// The waiting room's event stream is documented the way OpenAPI 3.1 (and schemathesis) reads an
/// event stream: each event an object of its fields, here `event` and `data`, the data JSON text
/// of a `QueueTicket` (`status`) or an `ErrorBody` (`error`). It used to be documented as one
/// `QueueTicket`, which no event is.
#[tokio::test]
async fn the_waiting_room_event_stream_is_documented_event_by_event() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    let stream = &doc["paths"]["/api/v1/drops/{id}/queue/events"]["get"]["responses"]["200"]["content"]
        ["text/event-stream"]["schema"];
    assert_eq!(
        stream["$ref"], "#/components/schemas/QueueEvent",
        "{stream}"
    );
    let events: Vec<(String, String)> = doc["components"]["schemas"]["QueueEvent"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            assert_eq!(event["required"], serde_json::json!(["event", "data"]));
            let data = &event["properties"]["data"];
            assert_eq!(data["type"], "string");
            assert_eq!(data["contentMediaType"], "application/json");
            (
                event["properties"]["event"]["enum"][0]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                data["contentSchema"]["$ref"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("status".into(), "#/components/schemas/QueueTicket".into()),
            ("error".into(), "#/components/schemas/ErrorBody".into()),
        ]
    );
}

/// The bounds the extractors enforce are in the document, so a client (or schemathesis) that
/// keeps to the document is not refused: every list's `limit` is 1–100 (a published raffle draw's,
/// a list of bare ids, 1–10,000) and every `Idempotency-Key` 1–255 visible ASCII characters.
#[tokio::test]
async fn page_limits_and_idempotency_keys_are_documented_with_their_bounds() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    let (mut limits, mut keys) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let schema = &parameter["schema"];
                match (parameter["in"].as_str(), parameter["name"].as_str()) {
                    (Some("query"), Some("limit")) => {
                        let most = if path.ends_with("/draw") { 10_000 } else { 100 };
                        assert_eq!(
                            (&schema["minimum"], &schema["maximum"]),
                            (&serde_json::json!(1), &serde_json::json!(most)),
                            "{method} {path}: {schema}"
                        );
                        limits += 1;
                    }
                    (Some("header"), Some("Idempotency-Key")) => {
                        assert_eq!(
                            schema,
                            &serde_json::json!({
                                "type": "string", "minLength": 1, "maxLength": 255,
                                "pattern": "^[!-~]+$"
                            }),
                            "{method} {path}"
                        );
                        keys += 1;
                    }
                    _ => {}
                }
            }
        }
    }
    assert_eq!((limits, keys), (18, 12));
}

/// A raffle's seed is secret until its draw: no schema but the published draw's has a `seed`
/// property, so no view of a drop, a trial or anything else can carry it.
#[tokio::test]
async fn only_the_published_draw_carries_a_raffles_seed() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    let with_seed: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, schema)| schema["properties"].get("seed").is_some())
        .map(|(name, _)| name)
        .collect();
    assert_eq!(with_seed, ["DrawView"]);
    let operations: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| item.to_string().contains("#/components/schemas/DrawView"))
        .map(|(path, _)| path.clone())
        .collect();
    assert_eq!(
        operations,
        ["/api/v1/drops/{id}/draw", "/api/v1/trials/{id}/draw"]
    );
}
