//! A local server that speaks the part of the Toss Payments API rushline calls (confirm and
//! cancel, Basic auth with the secret key), so that the real client runs in tests. What it
//! answers depends on the `paymentKey`'s prefix.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::TimeDelta;
use rushline_domain::ManualClock;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The secret key the fake accepts.
pub const TOSS_SECRET: &str = "test_sk_rushline_fake_toss_secret";

/// A call the fake received: `confirm` or `cancel`, the payment key, and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct TossCall {
    pub endpoint: &'static str,
    pub payment_key: String,
    pub body: Value,
    pub idempotency_key: Option<String>,
}

/// Payment keys starting with `decline` get 400 `REJECT_CARD_PAYMENT`, `down` get 500, `busy`
/// get 429, `late` move the given clock past a hold before approving, and `lost` are charged
/// by the first confirm, which never answers, and refused with 400 `ALREADY_PROCESSED_PAYMENT`
/// by the next ones; the rest are approved. Cancelling a key that was never charged answers 404
/// `NOT_FOUND_PAYMENT`.
#[derive(Clone)]
pub struct FakeToss {
    pub url: String,
    calls: Arc<Mutex<Vec<TossCall>>>,
}

#[derive(Clone)]
struct Fake {
    calls: Arc<Mutex<Vec<TossCall>>>,
    /// The payment keys charged.
    charged: Arc<Mutex<HashSet<String>>>,
    clock: ManualClock,
}

impl FakeToss {
    /// Serves on a free port until the test's runtime ends. `clock` is the app's, for `late`
    /// keys.
    pub async fn start(clock: ManualClock) -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/v1/payments/confirm", post(confirm))
            .route("/v1/payments/{payment_key}/cancel", post(cancel))
            .with_state(Fake {
                calls: calls.clone(),
                charged: Arc::default(),
                clock,
            });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Toss");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, calls }
    }

    pub fn calls(&self) -> Vec<TossCall> {
        self.calls.lock().unwrap().clone()
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    let expected = format!("Basic {}", STANDARD.encode(format!("{TOSS_SECRET}:")));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn error(status: StatusCode, code: &str, message: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({ "code": code, "message": message })))
}

async fn confirm(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorised(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED_KEY",
            "unknown secret key",
        );
    }
    let key = body["paymentKey"].as_str().unwrap_or_default().to_owned();
    let retried = {
        let mut calls = fake.calls.lock().unwrap();
        let retried = calls
            .iter()
            .any(|c| c.endpoint == "confirm" && c.payment_key == key);
        calls.push(TossCall {
            endpoint: "confirm",
            payment_key: key.clone(),
            body: body.clone(),
            idempotency_key: headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
        retried
    };
    if key.starts_with("decline") {
        return error(
            StatusCode::BAD_REQUEST,
            "REJECT_CARD_PAYMENT",
            "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
        );
    }
    if key.starts_with("down") {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "FAILED_INTERNAL_SYSTEM_PROCESSING",
            "internal error",
        );
    }
    if key.starts_with("busy") {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "too many requests",
        );
    }
    if key.starts_with("lost") {
        if retried {
            return error(
                StatusCode::BAD_REQUEST,
                "ALREADY_PROCESSED_PAYMENT",
                "이미 처리된 결제 입니다.",
            );
        }
        fake.charged.lock().unwrap().insert(key);
        return std::future::pending().await;
    }
    if key.starts_with("late") {
        fake.clock.advance(TimeDelta::days(2));
    }
    fake.charged.lock().unwrap().insert(key.clone());
    (
        StatusCode::OK,
        Json(json!({
            "paymentKey": key,
            "orderId": body["orderId"],
            "status": "DONE",
            "totalAmount": body["amount"],
            "method": "카드",
        })),
    )
}

async fn cancel(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Path(payment_key): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorised(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED_KEY",
            "unknown secret key",
        );
    }
    let mut calls = fake.calls.lock().unwrap();
    let already = calls
        .iter()
        .any(|c| c.endpoint == "cancel" && c.payment_key == payment_key);
    calls.push(TossCall {
        endpoint: "cancel",
        payment_key: payment_key.clone(),
        body,
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    if !fake.charged.lock().unwrap().contains(&payment_key) {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND_PAYMENT",
            "존재하지 않는 결제 정보 입니다.",
        );
    }
    if already {
        return error(
            StatusCode::BAD_REQUEST,
            "ALREADY_CANCELED_PAYMENT",
            "이미 취소된 결제 입니다.",
        );
    }
    (
        StatusCode::OK,
        Json(json!({ "paymentKey": payment_key, "status": "CANCELED" })),
    )
}
