//! A local server that speaks Slack's incoming-webhook API as its documentation describes it, so
//! that the real client runs in tests: a POST of `{"text": …}` answered `200 ok`, or one of the
//! documented failures, chosen by the webhook's path.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use tokio::net::TcpListener;

/// A post the fake received: the hook's path after `/hooks/`, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackPost {
    pub hook: String,
    pub text: String,
}

/// Answers by the hook's name (`{url}/hooks/{name}`): `invalid` 400 `invalid_payload`, `gone`
/// 404 `no_service`, `busy` 429 with `Retry-After: 30`, `down` 500, `stall` never, `switch` 500
/// while [`FakeSlack::set_down`] says so and 200 otherwise; any other 200 `ok`.
#[derive(Clone)]
pub struct FakeSlack {
    pub url: String,
    shared: Shared,
}

#[derive(Clone, Default)]
struct Shared {
    posts: Arc<Mutex<Vec<SlackPost>>>,
    down: Arc<Mutex<bool>>,
}

impl FakeSlack {
    /// Serves on a free port until the test's runtime ends.
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new()
            .route("/hooks/{name}", post(hook))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Slack");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    /// The webhook URL of hook `name`.
    pub fn hook(&self, name: &str) -> String {
        format!("{}/hooks/{name}", self.url)
    }

    /// Every post received, answered or not, in order.
    pub fn posts(&self) -> Vec<SlackPost> {
        self.shared.posts.lock().unwrap().clone()
    }

    pub fn set_down(&self, down: bool) {
        *self.shared.down.lock().unwrap() = down;
    }
}

async fn hook(
    State(shared): State<Shared>,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(text) = body.get("text").and_then(Value::as_str) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    shared.posts.lock().unwrap().push(SlackPost {
        hook: name.clone(),
        text: text.to_owned(),
    });
    let down = *shared.down.lock().unwrap();
    match name.as_str() {
        "invalid" => (StatusCode::BAD_REQUEST, "invalid_payload").into_response(),
        "gone" => (StatusCode::NOT_FOUND, "no_service").into_response(),
        "busy" => {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from_static("30"));
            (StatusCode::TOO_MANY_REQUESTS, headers, "rate_limited").into_response()
        }
        "down" => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error").into_response(),
        "switch" if down => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error").into_response(),
        "stall" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
        _ => (StatusCode::OK, "ok").into_response(),
    }
}
