use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use rushline::config::{Argon2Config, Secret, ServiceUrl};
use rushline::{Config, Rushline};
use rushline_app::identity::AccessTokens;
use rushline_domain::{Clock, ManualClock, ProductStatus, Role, Won};
use rushline_jobs::Worker;
use rushline_server::AppState;
use rushline_store::{Product, User};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use uuid::Uuid;

use crate::{TestDb, TestRedis};

/// Which pair of backends a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite and the in-process gate: the zero-setup default.
    Sqlite,
    /// PostgreSQL, and Redis for the gate, caches and pub/sub: the scale-out setup.
    Postgres,
}

impl Backend {
    /// Whether this backend's servers are configured (always true in CI, or the test fails).
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => crate::postgres_url().is_some() && crate::redis_url().is_some(),
        }
    }
}

/// The real application, in process, on an isolated database and Redis prefix, with a manual
/// clock. Requests go through the real router (`oneshot`), or over TCP after [`TestApp::spawn`].
pub struct TestApp {
    pub node: Rushline,
    pub clock: ManualClock,
    router: Router,
    resources: Arc<Resources>,
    _data_dir: Arc<tempfile::TempDir>,
}

/// What several nodes of one test share, dropped (and cleaned up) with the last of them.
struct Resources {
    db: TestDb,
    redis: Option<TestRedis>,
    backend: Backend,
}

pub struct TestAppBuilder {
    backend: Backend,
    config: Config,
    clock: Option<ManualClock>,
    shared: Option<Arc<Resources>>,
}

impl TestApp {
    pub fn builder(backend: Backend) -> TestAppBuilder {
        let mut config = Config::default();
        config.database.max_connections = 8;
        // Shared by `another_node`, as a deployment shares one secret across its nodes.
        let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        config.auth.jwt_secret = Some(Secret::from(secret.as_str()));
        // The cheapest argon2id the library accepts: tests check behaviour, not hashing cost.
        config.auth.argon2 = Argon2Config {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        };
        TestAppBuilder {
            backend,
            config,
            clock: None,
            shared: None,
        }
    }

    pub async fn new(backend: Backend) -> Self {
        Self::builder(backend).build().await
    }

    /// A second node on this node's database, Redis prefix and clock, with its own in-process
    /// state (caches, memory gate, writer), as another `rushline serve` would have.
    pub fn another_node(&self) -> TestAppBuilder {
        TestAppBuilder {
            backend: self.resources.backend,
            config: self.node.config.clone(),
            clock: Some(self.clock.clone()),
            shared: Some(self.resources.clone()),
        }
    }

    pub fn backend(&self) -> Backend {
        self.resources.backend
    }

    /// The URL of this app's database, for a benchmark that seeds rows in bulk.
    pub fn database_url(&self) -> &str {
        &self.resources.db.url
    }

    pub fn state(&self) -> &AppState {
        &self.node.state
    }

    pub fn worker(&self) -> Worker {
        self.node.worker()
    }

    /// A verified account of `role`, created directly in the store (no mail round trip), with an
    /// access token valid at the current clock.
    pub async fn user(&self, role: Role) -> TestUser {
        self.users(role, 1).await.remove(0)
    }

    /// `n` accounts like [`TestApp::user`], inserted in one transaction.
    pub async fn users(&self, role: Role, n: usize) -> Vec<TestUser> {
        let now = self.clock.now();
        let users: Vec<User> = (0..n)
            .map(|_| {
                let id = Uuid::now_v7();
                User {
                    id,
                    email: format!("{role}-{}@test.example", id.simple()),
                    name: format!("Test {role}"),
                    role,
                    password_hash: "not a usable hash: this account cannot log in".to_owned(),
                    verified_at: Some(now),
                    created_at: now,
                    updated_at: now,
                }
            })
            .collect();
        // Signed with the node's secret but valid for 30 days: tests move the clock by hours and
        // days, and their users should not have to log in again.
        let secret = self
            .node
            .config
            .auth
            .jwt_secret
            .as_ref()
            .expect("the test secret");
        let tokens = AccessTokens::new(secret.expose().as_bytes(), chrono::TimeDelta::days(30));
        self.state()
            .store
            .insert_users(&users)
            .await
            .expect("insert test users");
        users
            .into_iter()
            .map(|user| TestUser {
                id: user.id,
                email: user.email,
                role,
                token: tokens.issue(user.id, role, now),
            })
            .collect()
    }

    /// An active product of `seller` with `stock` units of regular stock, made in the store.
    pub async fn product(&self, seller: &TestUser, price: i64, stock: i64) -> Product {
        let now = self.clock.now();
        let product = Product {
            id: Uuid::now_v7(),
            seller_id: seller.id,
            name: "Aurora sneakers".to_owned(),
            description: "A limited colourway".to_owned(),
            category: "shoes".to_owned(),
            price: Won::new(price),
            stock,
            status: ProductStatus::Active,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            max_per_order: rushline_domain::catalog::DEFAULT_MAX_PER_ORDER,
        };
        self.state()
            .store
            .insert_product(&product)
            .await
            .expect("insert test product");
        product
    }

    /// Moves the clock, then runs every job that became due.
    pub async fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
        self.worker().run_due().await.expect("due jobs ran");
    }

    /// A handle to this node's router that can move into spawned tasks.
    pub fn client(&self) -> TestClient {
        TestClient {
            router: self.router.clone(),
        }
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        self.client().request(request).await
    }

    /// The client address of requests that do not say otherwise.
    pub const PEER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    /// A JSON POST from the client address `peer`, for tests of per-address behaviour.
    pub async fn post_from(&self, peer: IpAddr, path: &str, body: Value) -> TestResponse {
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a valid request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer, 40_000)));
        self.request(request).await
    }

    /// Runs the due jobs (mail is sent by a job), then takes the messages the development mail
    /// sink wrote to `<data_dir>/mail` for `to`: their full text, oldest first. Taken messages
    /// are deleted, so a later call sees only newer mail.
    pub async fn deliver_mail_to(&self, to: &str) -> Vec<String> {
        self.deliver_notifications().await;
        let dir = self.node.config.data_dir.join("mail");
        let mut paths: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.map(|e| e.expect("mail entry").path()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("cannot read {}: {e}", dir.display()),
        };
        paths.sort();
        let mut taken = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("a mail file");
            if text.lines().any(|l| l == format!("To: {to}")) {
                std::fs::remove_file(&path).expect("remove a taken mail");
                taken.push(text);
            }
        }
        taken
    }

    /// Runs the jobs due now, then sends the notifications they wrote (which the periodic job
    /// would send within a second).
    pub async fn deliver_notifications(&self) {
        self.worker().run_due().await.expect("due jobs ran");
        rushline_app::notifications::deliver_due(self.state())
            .await
            .expect("notifications delivered");
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.client().get(path).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.client().post(path, body).await
    }

    /// A request with an optional JSON body and extra headers (`("authorization", "Bearer …")`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        self.client().send(method, path, body, headers).await
    }

    /// Serves the app on 127.0.0.1 at a free port until the token is cancelled; returns the base
    /// URL. Jobs run too, on the manual clock.
    pub async fn spawn(&self) -> (String, CancellationToken) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let shutdown = CancellationToken::new();
        let router = self.router.clone();
        let limits = self.node.config.http.limits();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            rushline_server::serve(
                listener,
                router,
                async move { stop.cancelled().await },
                limits,
            )
            .await
        });
        (url, shutdown)
    }

    /// Moves the manual clock along with real time, in a background task, until the token is
    /// cancelled: for tests that drive a spawned node with a client that reads the wall clock
    /// (the load test schedules its drop by it).
    pub fn follow_real_time(&self) -> CancellationToken {
        let clock = self.clock.clone();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            loop {
                let now = chrono::Utc::now();
                if now > clock.now() {
                    clock.set(now);
                }
                tokio::select! {
                    () = stopped.cancelled() => return,
                    () = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
                }
            }
        });
        stop
    }
}

impl TestAppBuilder {
    /// Changes the configuration before the node is built.
    /// Uses `clock` instead of a fresh one, for a test that drives it from elsewhere too.
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    pub fn config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    pub async fn build(self) -> TestApp {
        let resources = match self.shared {
            Some(shared) => shared,
            None => Arc::new(Resources::new(self.backend).await),
        };
        let data_dir = Arc::new(tempfile::tempdir().expect("temporary data_dir"));
        let mut config = self.config;
        config.data_dir = data_dir.path().to_path_buf();
        // A node made by `another_node` arrives with these set, possibly changed by the test.
        config
            .database
            .url
            .get_or_insert_with(|| ServiceUrl::from(resources.db.url.as_str()));
        if let Some(redis) = &resources.redis {
            if config.gate.url.expose() == "memory" {
                config.gate.url = ServiceUrl::from(redis.url.as_str());
            }
            if config.redis.url.is_none() {
                config.redis.url = Some(ServiceUrl::from(redis.url.as_str()));
                config.redis.key_prefix = redis.prefix.clone();
            }
        }
        let clock = self.clock.unwrap_or_else(ManualClock::starting_now);
        let node = Rushline::build(config, Arc::new(clock.clone()))
            .await
            .expect("the test node builds");
        let router = node.router();
        TestApp {
            node,
            clock,
            router,
            resources,
            _data_dir: data_dir,
        }
    }
}

impl Resources {
    async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self {
                db: TestDb::sqlite().await,
                redis: None,
                backend,
            },
            Backend::Postgres => Self {
                db: TestDb::postgres().await.expect("PostgreSQL is configured"),
                redis: Some(TestRedis::new().expect("Redis is configured")),
                backend,
            },
        }
    }
}

/// Sends requests through a node's real router, in process.
#[derive(Clone)]
pub struct TestClient {
    router: Router,
}

impl TestClient {
    /// Sends `request` through the router. Like `serve`, which records the TCP peer, every
    /// request gets a peer address: [`TestApp::PEER`] unless the request carries a
    /// `ConnectInfo<SocketAddr>` extension of its own.
    pub async fn request(&self, mut request: Request<Body>) -> TestResponse {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(TestApp::PEER, 40_000)));
        }
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: body.to_vec(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    /// A GET whose body is read as it arrives, event by event: for server-sent events.
    pub async fn stream(&self, path: &str, headers: &[(&str, &str)]) -> TestStream {
        let mut request = Request::builder().method(Method::GET).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).expect("a valid request"))
            .await
            .expect("the router is infallible");
        TestStream {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(json) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => request.body(Body::empty()),
        };
        self.request(request.expect("a valid request")).await
    }
}

/// An account made by [`TestApp::user`].
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub token: String,
}

impl TestUser {
    /// The value of the `Authorization` header for this user's requests.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

/// A response with its body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The stable error code of an error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.text()))
            .to_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Self {
        assert_eq!(self.status, expected, "body: {}", self.text());
        self
    }
}

/// A response whose body is read as it arrives. Dropping it is the client going away.
pub struct TestStream {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Body,
    buffer: String,
}

impl TestStream {
    /// The next server-sent event: its name (`message` when unnamed) and its data, parsed as
    /// JSON when it is JSON. `None` once the stream has ended. Comments (keep-alives) are
    /// skipped.
    pub async fn next_event(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = ("message".to_owned(), Vec::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.strip_prefix(' ').unwrap_or(value));
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = data.join("\n");
                let value = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some((name, value));
            }
            let frame = self.body.frame().await?.expect("the body streams");
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }

    /// The whole rest of the body: for an error answered instead of a stream.
    pub async fn text(self) -> String {
        let rest = self.body.collect().await.expect("body").to_bytes();
        format!("{}{}", self.buffer, String::from_utf8_lossy(&rest))
    }
}
