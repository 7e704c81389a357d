//! The calls the load test makes to rushline's public API, spread round-robin over the nodes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Error;

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a setup call refused for a passing reason (429, 503, a lost connection) is retried.
const SETUP_RETRIES: u32 = 20;

pub(crate) struct Api {
    client: reqwest::Client,
    /// Base URLs without a trailing slash.
    urls: Vec<String>,
    next: AtomicUsize,
}

/// An answer as the hot path sees it: the status and the error code, or why there was none.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// The stable `error.code` of an error body.
    pub fn error_code(&self) -> Option<String> {
        let body: Value = serde_json::from_slice(&self.body).ok()?;
        body["error"]["code"].as_str().map(str::to_owned)
    }

    pub fn json<T: DeserializeOwned>(&self, step: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Unexpected {
            step: step.to_owned(),
            detail: format!("{e}: {}", self.text()),
        })
    }

    fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(500).collect()
    }

    /// This answer as the error of `step`.
    pub fn refused(&self, step: &str) -> Error {
        Error::Refused {
            step: step.to_owned(),
            status: self.status.as_u16(),
            body: self.text(),
        }
    }
}

/// A request that got no answer: refused connection, reset, timeout.
#[derive(Debug)]
pub(crate) struct Failure {
    /// `timeout`, `connect` or `transport`.
    pub kind: &'static str,
    pub detail: String,
}

impl Failure {
    fn of(error: &reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            "timeout"
        } else if error.is_connect() {
            "connect"
        } else {
            "transport"
        };
        // reqwest's own message names the URL; the causes say what happened.
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        Self { kind, detail }
    }

    pub(crate) fn into_error(self, step: &str) -> Error {
        Error::Transport {
            step: step.to_owned(),
            detail: self.detail,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Tokens {
    access_token: String,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: Uuid,
}

/// What `POST /api/v1/admin/users/import` answered.
#[derive(Debug, Deserialize)]
pub(crate) struct Imported {
    pub imported: u64,
    pub existing: u64,
    pub refused: u64,
    pub results: Vec<Value>,
}

/// The parts of a drop the checks read.
#[derive(Debug, Deserialize)]
pub(crate) struct DropView {
    pub remaining: u64,
}

/// An order as `GET /api/v1/orders` lists it.
#[derive(Debug, Deserialize)]
pub(crate) struct ServerOrder {
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub lines: Vec<ServerOrderLine>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ServerOrderLine {
    pub drop_id: Option<Uuid>,
    pub quantity: u64,
}

#[derive(Debug, Deserialize)]
struct OrderPage {
    items: Vec<ServerOrder>,
    next_cursor: Option<String>,
}

/// The drop the load test sells.
pub(crate) struct NewDrop {
    pub product_id: Uuid,
    pub quantity: u64,
    pub price: i64,
    pub per_user_limit: u32,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// Buyers admitted per minute, for a drop behind a waiting room.
    pub admit_per_minute: Option<u32>,
}

impl Api {
    /// A client keeping up to `connections` HTTP/1.1 connections alive per node.
    pub fn new(urls: &[String], connections: usize) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Options(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self {
            client,
            urls: urls
                .iter()
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect(),
            next: AtomicUsize::new(0),
        })
    }

    /// The next node's URL for `path`.
    fn url(&self, path: &str) -> String {
        let node = self.next.fetch_add(1, Ordering::Relaxed) % self.urls.len();
        format!("{}{path}", self.urls[node])
    }

    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `request` and reads the whole answer, so that the connection goes back to the pool.
    pub async fn send(&self, request: RequestBuilder) -> Result<Answer, Failure> {
        let response = request.send().await.map_err(|e| Failure::of(&e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| Failure::of(&e))?;
        Ok(Answer {
            status,
            body: body.to_vec(),
        })
    }

    /// Sends what `make` builds until it gets an answer that is not a passing refusal (429, 503,
    /// no answer at all), waiting a little longer each time.
    async fn setup_call(
        &self,
        step: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Answer, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let passing = match self.send(make()).await {
                Ok(answer)
                    if answer.status == StatusCode::TOO_MANY_REQUESTS
                        || answer.status == StatusCode::SERVICE_UNAVAILABLE =>
                {
                    Err(answer.refused(step))
                }
                Ok(answer) => return Ok(answer),
                Err(failure) => Err(failure.into_error(step)),
            };
            if attempt > SETUP_RETRIES {
                return passing;
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// Logs in; the access token.
    pub async fn login(&self, email: &str, password: &str) -> Result<String, Error> {
        let step = format!("logging in as {email}");
        let body = json!({ "email": email, "password": password });
        let answer = self
            .setup_call(&step, || {
                self.request(Method::POST, "/api/v1/auth/login", None)
                    .json(&body)
            })
            .await?;
        if answer.status != StatusCode::OK {
            return Err(answer.refused(&step));
        }
        Ok(answer.json::<Tokens>(&step)?.access_token)
    }

    /// Imports accounts given as JSON lines, through the admin endpoint.
    pub async fn import_users(&self, admin: &str, lines: String) -> Result<Imported, Error> {
        let step = "importing accounts (POST /api/v1/admin/users/import)";
        let answer = self
            .setup_call(step, || {
                self.request(Method::POST, "/api/v1/admin/users/import", Some(admin))
                    .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
                    .body(lines.clone())
            })
            .await?;
        if answer.status != StatusCode::OK {
            return Err(answer.refused(step));
        }
        answer.json(step)
    }

    /// Lists a product of the seller for the drop to sell, through the catalog's
    /// `POST /api/v1/products`.
    pub async fn create_product(&self, seller: &str, price: i64) -> Result<Uuid, Error> {
        let step = "creating the product (POST /api/v1/products)";
        let body = json!({
            "name": "Load test sneakers",
            "description": "Made by rushline loadtest",
            "category": "loadtest",
            "price": price,
            "stock": 0,
            "status": "active",
        });
        let answer = self
            .setup_call(step, || {
                self.request(Method::POST, "/api/v1/products", Some(seller))
                    .json(&body)
            })
            .await?;
        if answer.status != StatusCode::CREATED {
            return Err(answer.refused(step));
        }
        Ok(answer.json::<Created>(step)?.id)
    }

    pub async fn create_drop(&self, seller: &str, drop: &NewDrop) -> Result<Uuid, Error> {
        let step = "creating the drop (POST /api/v1/drops)";
        let mut body = json!({
            "product_id": drop.product_id,
            "quantity": drop.quantity,
            "price": drop.price,
            "per_user_limit": drop.per_user_limit,
            "opens_at": drop.opens_at,
            "closes_at": drop.closes_at,
        });
        if let Some(rate) = drop.admit_per_minute {
            body["waiting_room"] = json!({ "admit_per_minute": rate });
        }
        let answer = self
            .setup_call(step, || {
                self.request(Method::POST, "/api/v1/drops", Some(seller))
                    .json(&body)
            })
            .await?;
        if answer.status != StatusCode::CREATED {
            return Err(answer.refused(step));
        }
        Ok(answer.json::<Created>(step)?.id)
    }

    pub async fn drop_view(&self, drop: Uuid) -> Result<DropView, Error> {
        let step = format!("reading the drop (GET /api/v1/drops/{drop})");
        let path = format!("/api/v1/drops/{drop}");
        let answer = self
            .setup_call(&step, || self.request(Method::GET, &path, None))
            .await?;
        if answer.status != StatusCode::OK {
            return Err(answer.refused(&step));
        }
        answer.json(&step)
    }

    /// Every order with a line of `drop`, as its seller sees them.
    pub async fn drop_orders(&self, seller: &str, drop: Uuid) -> Result<Vec<ServerOrder>, Error> {
        let step = "listing the drop's orders (GET /api/v1/orders)";
        let mut orders = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("drop_id", drop.to_string()), ("limit", "100".to_owned())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.clone()));
            }
            let answer = self
                .setup_call(step, || {
                    self.request(Method::GET, "/api/v1/orders", Some(seller))
                        .query(&query)
                })
                .await?;
            if answer.status != StatusCode::OK {
                return Err(answer.refused(step));
            }
            let page: OrderPage = answer.json(step)?;
            orders.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(orders),
            }
        }
    }

    pub async fn purchase(
        &self,
        buyer: &str,
        drop: Uuid,
        key: &str,
        pass: Option<&str>,
    ) -> (Result<Answer, Failure>, Duration) {
        let mut request = self
            .request(
                Method::POST,
                &format!("/api/v1/drops/{drop}/purchase"),
                Some(buyer),
            )
            .header("idempotency-key", key)
            .json(&json!({ "quantity": 1 }));
        if let Some(pass) = pass {
            request = request.header("x-queue-pass", pass);
        }
        timed(self.send(request)).await
    }

    pub async fn join_queue(&self, buyer: &str, drop: Uuid) -> (Result<Answer, Failure>, Duration) {
        let request = self.request(
            Method::POST,
            &format!("/api/v1/drops/{drop}/queue"),
            Some(buyer),
        );
        timed(self.send(request)).await
    }

    pub async fn queue_me(&self, buyer: &str, drop: Uuid) -> (Result<Answer, Failure>, Duration) {
        let request = self.request(
            Method::GET,
            &format!("/api/v1/drops/{drop}/queue/me"),
            Some(buyer),
        );
        timed(self.send(request)).await
    }
}

async fn timed<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let outcome = call.await;
    (outcome, started.elapsed())
}

/// 50 ms, doubling up to 2 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64.saturating_mul(1 << attempt.min(6)).min(2_000))
}
