//! Typed configuration: defaults, then `rushline.toml` (or `--config PATH`), then `RUSHLINE_*`
//! environment variables, `__` separating nested keys (`RUSHLINE_HTTP__ADDR` is `http.addr`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Value};
use figment::{Figment, Metadata, Profile, Provider};
use rushline_server::{HttpLimits, TrustedProxies};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite file, the mail sink, images and generated secrets live.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub gate: GateConfig,
    pub redis: RedisConfig,
    pub log: LogConfig,
    pub telemetry: TelemetryConfig,
    pub jobs: JobsConfig,
    pub worker: WorkerConfig,
    pub auth: AuthConfig,
    pub orders: OrdersConfig,
    pub points: PointsConfig,
    pub settlement: SettlementConfig,
    pub trials: TrialsConfig,
    pub notifications: NotificationsConfig,
    pub payments: PaymentsConfig,
    pub mail: MailConfig,
    pub waiting_room: WaitingRoomConfig,
    pub catalog: CatalogConfig,
    pub images: ImagesConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    /// How long a shutdown waits for in-flight requests.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// A client has this long to send a request's headers once it has begun.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// A request has this long to be read and answered (503 `request_timeout` otherwise).
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// After SIGTERM, how long the node answers `/readyz` 503 while still serving, so that load
    /// balancers take it out of rotation before it stops accepting connections.
    #[serde(with = "humantime_serde")]
    pub drain_grace: Duration,
    /// Load balancers whose `X-Forwarded-For` is believed: addresses and networks, comma
    /// separated. Empty: the TCP peer is the client.
    #[serde(with = "proxies_text")]
    pub trusted_proxies: TrustedProxies,
}

/// `http.trusted_proxies` as one string, so that an environment variable can hold it.
mod proxies_text {
    use rushline_server::TrustedProxies;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(proxies: &TrustedProxies, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(proxies)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TrustedProxies, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `rushline worker`: jobs only, with `/healthz` and `/metrics` on their own address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Where a worker serves `/healthz` and `/metrics` (never the API).
    pub addr: SocketAddr,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 9091)),
        }
    }
}

impl HttpConfig {
    pub fn limits(&self) -> HttpLimits {
        HttpLimits {
            header_read_timeout: self.header_read_timeout,
            request_timeout: self.request_timeout,
            max_connections: self.max_connections,
            shutdown_grace: self.shutdown_grace,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`; unset means SQLite in `data_dir`.
    pub url: Option<ServiceUrl>,
    /// PostgreSQL pool size per node.
    pub max_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// `memory` (one node) or `redis://…` (several nodes).
    pub url: ServiceUrl,
    /// How often one node compares the gate with the database.
    #[serde(with = "humantime_serde")]
    pub reconcile_every: Duration,
    /// A grant the database does not hold after this long was lost with its node, and is undone.
    #[serde(with = "humantime_serde")]
    pub orphan_after: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://…` for caches, rate limits and pub/sub across nodes; unset keeps them in process.
    pub url: Option<ServiceUrl>,
    /// Prepended to every key, so that several deployments (or tests) can share one Redis.
    pub key_prefix: String,
    /// A command unanswered this long fails (503 `gate_unavailable` on a purchase), so that a
    /// Redis that keeps the connection but stops answering is given up on before the request
    /// timeout. Applies to `gate.url` too. Long enough for a burst's queue on one connection.
    #[serde(with = "humantime_serde")]
    pub response_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter (`info`, `rushline=debug,sqlx=warn`); `RUST_LOG` overrides it.
    pub level: String,
}

/// Traces, exported over OTLP/HTTP when an endpoint is set; nothing is recorded for them otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// The collector's OTLP/HTTP base address (`http://collector:4318`); spans go to
    /// `<endpoint>/v1/traces` as protobuf. Unset: no traces.
    pub otlp_endpoint: Option<ServiceUrl>,
    /// The `service.name` the spans carry.
    pub service_name: String,
    /// The share of traces started here that are kept, 0 to 1; a request that arrives with a
    /// W3C `traceparent` follows its caller's sampling decision.
    pub sample_ratio: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Pretty in a terminal, JSON otherwise.
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long a job is reserved for the worker that took it.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// Jobs one worker runs at once.
    pub concurrency: u32,
    /// How long a job may run before it is stopped as a failed attempt (shorter than `lease`).
    #[serde(with = "humantime_serde")]
    pub deadline: Duration,
    /// `deadline` by job kind, for the kinds that need another (`send_mail = "30s"`).
    pub deadlines: BTreeMap<String, humantime_serde::Serde<Duration>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrdersConfig {
    /// How long a new order holds its stock waiting for payment.
    #[serde(with = "humantime_serde")]
    pub hold_for: Duration,
    /// The most orders awaiting payment one buyer may have; one more is refused with 409
    /// `too_many_pending_orders`, so that no buyer holds the stock of many unpaid orders.
    pub max_pending_per_buyer: u32,
    /// Paid → shipping this long after payment.
    #[serde(with = "humantime_serde")]
    pub ship_after: Duration,
    /// Shipping → delivered this long after shipping.
    #[serde(with = "humantime_serde")]
    pub deliver_after: Duration,
    /// How long a delivered order may be returned; then it is completed.
    #[serde(with = "humantime_serde")]
    pub return_window: Duration,
    /// Return requested → returned (and refunded) this long after the request.
    #[serde(with = "humantime_serde")]
    pub return_process: Duration,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        const DAY: Duration = Duration::from_secs(24 * 3600);
        Self {
            hold_for: Duration::from_secs(10 * 60),
            max_pending_per_buyer: 3,
            ship_after: DAY,
            deliver_after: DAY,
            return_window: DAY,
            return_process: DAY,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettlementConfig {
    /// The time zone whose calendar days are business days (an IANA name).
    pub timezone: String,
    /// The platform's fee, of the gross after seller-funded discounts, 0 to 1.
    pub platform_fee_rate: f64,
    /// The payment provider's fee, of the same base, 0 to 1.
    pub payment_fee_rate: f64,
}

impl Default for SettlementConfig {
    fn default() -> Self {
        Self {
            timezone: "Asia/Seoul".to_owned(),
            platform_fee_rate: 0.05,
            payment_fee_rate: 0.033,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointsConfig {
    /// The share of a completed order's paid amount its buyer earns in points, 0 to 1.
    pub earn_rate: f64,
}

impl Default for PointsConfig {
    fn default() -> Self {
        Self { earn_rate: 0.01 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// A seller's Slack webhook must start with one of these.
    pub slack_webhook_prefixes: Vec<String>,
    /// Each post to Slack's deadline.
    #[serde(with = "humantime_serde")]
    pub slack_timeout: Duration,
    /// The Slack breaker judges this many latest posts…
    pub slack_breaker_window: usize,
    /// …and opens when at least this share of them failed (5xx, timeouts).
    pub slack_breaker_failure_ratio: f64,
    #[serde(with = "humantime_serde")]
    pub slack_breaker_open_for: Duration,
    /// A failed delivery's first retry waits this long; the next twice as long.
    #[serde(with = "humantime_serde")]
    pub retry_after: Duration,
    /// How long before a hold runs out its buyer is warned.
    #[serde(with = "humantime_serde")]
    pub hold_warning: Duration,
    /// Days an inbox keeps a notification.
    pub keep_days: u32,
    /// `/me/notifications/events` streams one account may hold open on a node.
    pub streams_per_user: usize,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            slack_webhook_prefixes: vec!["https://hooks.slack.com/".to_owned()],
            slack_timeout: Duration::from_secs(5),
            slack_breaker_window: 20,
            slack_breaker_failure_ratio: 0.5,
            slack_breaker_open_for: Duration::from_secs(60),
            retry_after: Duration::from_secs(30),
            hold_warning: Duration::from_secs(120),
            keep_days: 90,
            streams_per_user: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrialsConfig {
    /// Days a tester whose review went overdue may not be selected for another trial, 1 to 3650.
    pub overdue_bar_days: u32,
}

impl Default for TrialsConfig {
    fn default() -> Self {
        Self {
            overdue_bar_days: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WaitingRoomConfig {
    /// A waiting buyer who has not polled for this long loses the place.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How often `/queue/events` pushes a buyer's place (each push is a poll).
    #[serde(with = "humantime_serde")]
    pub events_every: Duration,
    /// `/queue/events` streams one buyer may hold open at once on a node.
    pub streams_per_user: usize,
}

impl Default for WaitingRoomConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(2 * 60),
            events_every: Duration::from_secs(3),
            streams_per_user: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// Who takes payments: the sandbox, which approves any card but the test numbers (the
    /// embedded default, never for real sales), or Toss Payments (then `toss.secret_key` is
    /// required). Never both, and never one standing in for the other.
    pub provider: PaymentProvider,
    /// Each call to a provider must answer within this; all tries of a call, with the backoff
    /// between them, within the five minutes after which a pending payment is refunded.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Further tries after a timeout or a 5xx answer (never after a 4xx, 429 included).
    pub retries: usize,
    /// The first retry's delay; each next one doubles.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    /// The breaker judges this many latest calls…
    pub breaker_window: usize,
    /// …and opens when at least this share failed.
    pub breaker_failure_ratio: f64,
    /// How long an open breaker refuses calls before one trial call.
    #[serde(with = "humantime_serde")]
    pub breaker_open_for: Duration,
    pub toss: TossConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentProvider {
    Sandbox,
    Toss,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TossConfig {
    /// Required with `payments.provider = "toss"`, refused without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<Secret>,
    pub base_url: String,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            retries: 2,
            backoff: Duration::from_millis(200),
            breaker_window: 20,
            breaker_failure_ratio: 0.5,
            breaker_open_for: Duration::from_secs(30),
            provider: PaymentProvider::Sandbox,
            toss: TossConfig::default(),
        }
    }
}

impl Default for TossConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            base_url: "https://api.tosspayments.com".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Signs access tokens; every node of a deployment needs the same one. Unset: generated once
    /// and kept in `data_dir/jwt_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<Secret>,
    #[serde(with = "humantime_serde")]
    pub access_ttl: Duration,
    /// How long a refresh token is valid; each refresh hands out a new one.
    #[serde(with = "humantime_serde")]
    pub refresh_ttl: Duration,
    /// How long a mailed verification code is valid.
    #[serde(with = "humantime_serde")]
    pub code_ttl: Duration,
    /// Wrong codes allowed before a code dies.
    pub code_attempts: u32,
    /// How long after a code was mailed another may be requested.
    #[serde(with = "humantime_serde")]
    pub resend_after: Duration,
    /// Failed logins allowed per account from one client address, and per client address,
    /// within `login_failure_window`.
    pub login_failures_per_account: u32,
    /// Failed logins allowed per account from all addresses together within the window.
    pub login_failures_per_account_everywhere: u32,
    pub login_failures_per_ip: u32,
    #[serde(with = "humantime_serde")]
    pub login_failure_window: Duration,
    /// Sign-ups, verifications and code requests allowed per client address, and per e-mail
    /// address, within `account_request_window`.
    pub account_requests_per_ip: u32,
    pub account_requests_per_email: u32,
    #[serde(with = "humantime_serde")]
    pub account_request_window: Duration,
    /// Accounts still unverified this long after sign-up are deleted.
    #[serde(with = "humantime_serde")]
    pub unverified_ttl: Duration,
    pub argon2: Argon2Config,
}

/// The cost of password hashing (argon2id); the defaults are OWASP's minimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://host:port` (plain), `smtps://user:password@host:port` (TLS); unset: `.eml` files
    /// in `data_dir/mail`.
    pub smtp_url: Option<ServiceUrl>,
    /// The sender of every message.
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// Memory for cached public product pages, listings and review pages (a third each), per
    /// node.
    pub cache_max_bytes: u64,
    /// The longest a cached page is served without being reloaded, whatever else happens: it
    /// bounds how long a lost invalidation message can leave another node stale.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            cache_max_bytes: 64 * 1024 * 1024,
            cache_ttl: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// The largest image accepted, in bytes.
    pub max_bytes: usize,
    pub max_per_product: u32,
    /// An S3-compatible bucket for image bytes; unset: `data_dir/images`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Config>,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            max_per_product: 10,
            s3: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    /// For S3-compatible stores (MinIO, R2, …); unset: AWS.
    pub endpoint: Option<String>,
    #[serde(default = "S3Config::default_region")]
    pub region: String,
    /// Unset: taken from the `AWS_*` environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<Secret>,
}

impl S3Config {
    fn default_region() -> String {
        "us-east-1".to_owned()
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(14 * 24 * 3600),
            code_ttl: Duration::from_secs(5 * 60),
            code_attempts: 5,
            resend_after: Duration::from_secs(60),
            login_failures_per_account: 5,
            login_failures_per_account_everywhere: 50,
            login_failures_per_ip: 20,
            login_failure_window: Duration::from_secs(15 * 60),
            account_requests_per_ip: 60,
            account_requests_per_email: 10,
            account_request_window: Duration::from_secs(10 * 60),
            unverified_ttl: Duration::from_secs(7 * 24 * 3600),
            argon2: Argon2Config::default(),
        }
    }
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "rushline <noreply@rushline.localhost>".to_owned(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            http: HttpConfig::default(),
            database: DatabaseConfig::default(),
            gate: GateConfig::default(),
            redis: RedisConfig::default(),
            log: LogConfig::default(),
            telemetry: TelemetryConfig::default(),
            jobs: JobsConfig::default(),
            worker: WorkerConfig::default(),
            auth: AuthConfig::default(),
            orders: OrdersConfig::default(),
            points: PointsConfig::default(),
            settlement: SettlementConfig::default(),
            trials: TrialsConfig::default(),
            notifications: NotificationsConfig::default(),
            payments: PaymentsConfig::default(),
            mail: MailConfig::default(),
            waiting_room: WaitingRoomConfig::default(),
            catalog: CatalogConfig::default(),
            images: ImagesConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            shutdown_grace: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            drain_grace: Duration::from_secs(5),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 32,
        }
    }
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            url: ServiceUrl::from("memory"),
            reconcile_every: Duration::from_secs(10),
            orphan_after: Duration::from_secs(30),
        }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "rushline:".to_owned(),
            response_timeout: Duration::from_secs(10),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Auto,
            level: "info".to_owned(),
        }
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "rushline".to_owned(),
            sample_ratio: 1.0,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            lease: Duration::from_secs(300),
            concurrency: 32,
            deadline: Duration::from_secs(60),
            deadlines: BTreeMap::new(),
        }
    }
}

/// A URL that may carry a password: `Debug` and `Display` hide the password, so that logging a
/// configuration never leaks it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceUrl(String);

impl ServiceUrl {
    /// The full URL, password included: for connecting, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn scheme(&self) -> &str {
        self.0
            .split_once("://")
            .map_or(self.0.as_str(), |(scheme, _)| scheme)
    }
}

impl From<&str> for ServiceUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("REDACTED"));
                f.write_str(url.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// A secret value: never printed by `Debug` or serialised back out.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(SecretString::from(secret))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[REDACTED]")
    }
}

/// Environment variables as they are written. figment's `Env` guesses each value's type, which
/// turns `RUSHLINE_REDIS__KEY_PREFIX=123` into a number that a string key then refuses; here every
/// value stays a string, and [`Figment::extract_lossy`] reads numbers from them where a key wants one.
struct RawEnv(Env);

impl Provider for RawEnv {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<figment::value::Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (key, value) in self.0.iter() {
            if let Value::Dict(_, nested) = figment::util::nest(key.as_str(), value.into()) {
                merge(&mut dict, nested);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// Adds `new` to `dict`, merging nested tables key by key.
fn merge(dict: &mut Dict, new: Dict) {
    for (key, value) in new {
        match (dict.get_mut(&key), value) {
            (Some(Value::Dict(_, old)), Value::Dict(_, new)) => merge(old, new),
            (_, value) => {
                dict.insert(key, value);
            }
        }
    }
}

/// Why a configuration was refused; the message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", describe(.0))]
    Parse(#[from] Box<figment::Error>),
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

/// `http.addr: invalid socket address syntax (from RUSHLINE_ environment variable(s))`, one line
/// per error.
fn describe(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|e| {
            let source = e
                .metadata
                .as_ref()
                .map_or("defaults".into(), |m| m.name.clone());
            format!("{}: {} (from {source})", e.path.join("."), e.kind)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    /// Defaults, then the TOML file (`path`, else `./rushline.toml` when present), then the
    /// environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let file = path.map_or_else(|| PathBuf::from("rushline.toml"), Path::to_path_buf);
        if let Some(path) = path
            && !path.exists()
        {
            return Err(ConfigError::Invalid {
                key: "--config",
                message: format!("{} does not exist", path.display()),
            });
        }
        Self::from_figment(
            Figment::from(Serialized::defaults(Config::default()))
                .merge(Toml::file(file))
                .merge(Self::env()),
        )
    }

    /// `RUSHLINE_*` variables, except the test harness's `RUSHLINE_TEST_*` and the credentials
    /// `RUSHLINE_ADMIN_EMAIL` and `RUSHLINE_ADMIN_PASSWORD` that commands take as arguments.
    fn env() -> RawEnv {
        // Lowercased first, so that errors name keys as the file spells them (`http.addr`).
        RawEnv(
            Env::prefixed("RUSHLINE_")
                .map(|key| key.as_str().to_ascii_lowercase().into())
                .filter(|key| {
                    !key.as_str().starts_with("test_")
                        && !matches!(key.as_str(), "admin_email" | "admin_password")
                })
                .split("__"),
        )
    }

    /// Lossy, so that numbers and durations are read out of the environment's strings.
    pub(crate) fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract_lossy().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match (self.payments.provider, &self.payments.toss.secret_key) {
            (PaymentProvider::Toss, None) => {
                return Err(ConfigError::Invalid {
                    key: "payments.toss.secret_key",
                    message: "is required with payments.provider = \"toss\"".to_owned(),
                });
            }
            (PaymentProvider::Sandbox, Some(_)) => {
                return Err(ConfigError::Invalid {
                    key: "payments.provider",
                    message: "is \"sandbox\", which approves any card, while \
                              payments.toss.secret_key is set: set payments.provider = \"toss\""
                        .to_owned(),
                });
            }
            _ => {}
        }
        if let Some(url) = &self.database.url
            && !matches!(url.scheme(), "sqlite" | "postgres" | "postgresql")
        {
            return Err(ConfigError::Invalid {
                key: "database.url",
                message: format!("expected sqlite://… or postgres://…, got {url}"),
            });
        }
        if self.gate.url.expose() != "memory"
            && !matches!(self.gate.url.scheme(), "redis" | "rediss")
        {
            return Err(ConfigError::Invalid {
                key: "gate.url",
                message: format!("expected `memory` or redis://…, got {}", self.gate.url),
            });
        }
        if let Some(url) = &self.redis.url
            && !matches!(url.scheme(), "redis" | "rediss")
        {
            return Err(ConfigError::Invalid {
                key: "redis.url",
                message: format!("expected redis://…, got {url}"),
            });
        }
        if let Some(secret) = &self.auth.jwt_secret
            && secret.expose().len() < 32
        {
            return Err(ConfigError::Invalid {
                key: "auth.jwt_secret",
                message: "must be at least 32 characters".to_owned(),
            });
        }
        if self.images.s3.is_some() && !cfg!(feature = "s3") {
            return Err(ConfigError::Invalid {
                key: "images.s3",
                message: "this rushline was built without S3 support; build it with the `s3` \
                          feature (on by default) or leave images.s3 unset"
                    .to_owned(),
            });
        }
        if let Some(url) = &self.telemetry.otlp_endpoint
            && !matches!(url.scheme(), "http" | "https")
        {
            return Err(ConfigError::Invalid {
                key: "telemetry.otlp_endpoint",
                message: format!("expected http://… or https://…, got {url}"),
            });
        }
        if !(0.0..=1.0).contains(&self.telemetry.sample_ratio) {
            return Err(ConfigError::Invalid {
                key: "telemetry.sample_ratio",
                message: format!(
                    "must be between 0 and 1, got {}",
                    self.telemetry.sample_ratio
                ),
            });
        }
        if self.images.max_per_product == 0 {
            return Err(ConfigError::Invalid {
                key: "images.max_per_product",
                message: "must be at least 1".to_owned(),
            });
        }
        if self.jobs.concurrency == 0 {
            return Err(ConfigError::Invalid {
                key: "jobs.concurrency",
                message: "must be at least 1".to_owned(),
            });
        }
        let deadlines = std::iter::once(("jobs.deadline".to_owned(), self.jobs.deadline)).chain(
            self.jobs
                .deadlines
                .iter()
                .map(|(kind, d)| (format!("jobs.deadlines.{kind}"), **d)),
        );
        for (key, deadline) in deadlines {
            if deadline.is_zero() || deadline >= self.jobs.lease {
                return Err(ConfigError::Invalid {
                    key: "jobs.deadline",
                    message: format!(
                        "{key} must be above zero and shorter than jobs.lease ({:?}), so that no \
                         job still runs when another worker may take it up",
                        self.jobs.lease
                    ),
                });
            }
        }
        if self.http.max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "http.max_connections",
                message: "must be at least 1".to_owned(),
            });
        }
        if self.http.header_read_timeout.is_zero() || self.http.request_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                key: "http.request_timeout",
                message: "http.header_read_timeout and http.request_timeout must be above zero"
                    .to_owned(),
            });
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "database.max_connections",
                message: "must be at least 1".to_owned(),
            });
        }
        let payments = &self.payments;
        if payments.breaker_window == 0 || !(0.0..=1.0).contains(&payments.breaker_failure_ratio) {
            return Err(ConfigError::Invalid {
                key: "payments.breaker_window",
                message: "needs a window of at least 1 and a failure ratio between 0 and 1"
                    .to_owned(),
            });
        }
        let longest = rushline_app::payments::longest_call(
            payments.timeout,
            payments.retries,
            payments.backoff,
        );
        let stale_after = rushline_app::payments::STALE_AFTER;
        if longest >= stale_after {
            return Err(ConfigError::Invalid {
                key: "payments.timeout",
                message: format!(
                    "payments.timeout × (payments.retries + 1), plus the payments.backoff delays \
                     between tries, can last {}; it must stay under {}, after which a pending \
                     payment is refunded as abandoned",
                    humantime::format_duration(longest),
                    humantime::format_duration(stale_after),
                ),
            });
        }
        if rushline_domain::EarnRate::from_fraction(self.points.earn_rate).is_none() {
            return Err(ConfigError::Invalid {
                key: "points.earn_rate",
                message: format!("must be between 0 and 1, got {}", self.points.earn_rate),
            });
        }
        if self.settlement.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(ConfigError::Invalid {
                key: "settlement.timezone",
                message: format!(
                    "{:?} is not an IANA time zone name (such as Asia/Seoul)",
                    self.settlement.timezone
                ),
            });
        }
        for (key, rate) in [
            (
                "settlement.platform_fee_rate",
                self.settlement.platform_fee_rate,
            ),
            (
                "settlement.payment_fee_rate",
                self.settlement.payment_fee_rate,
            ),
        ] {
            if rushline_domain::FeeRate::from_fraction(rate).is_none() {
                return Err(ConfigError::Invalid {
                    key,
                    message: format!("must be between 0 and 1, got {rate}"),
                });
            }
        }
        if !(1..=3650).contains(&self.trials.overdue_bar_days) {
            return Err(ConfigError::Invalid {
                key: "trials.overdue_bar_days",
                message: format!(
                    "must be between 1 and 3650, got {}",
                    self.trials.overdue_bar_days
                ),
            });
        }
        let notifications = &self.notifications;
        if notifications.slack_breaker_window == 0
            || !(0.0..=1.0).contains(&notifications.slack_breaker_failure_ratio)
        {
            return Err(ConfigError::Invalid {
                key: "notifications.slack_breaker_window",
                message: "the window must hold a call and the ratio be between 0 and 1".to_owned(),
            });
        }
        if !(1..=3650).contains(&notifications.keep_days) {
            return Err(ConfigError::Invalid {
                key: "notifications.keep_days",
                message: format!(
                    "must be between 1 and 3650, got {}",
                    notifications.keep_days
                ),
            });
        }
        if notifications.streams_per_user == 0 {
            return Err(ConfigError::Invalid {
                key: "notifications.streams_per_user",
                message: "must be at least 1".to_owned(),
            });
        }
        if self.gate.reconcile_every.is_zero() {
            return Err(ConfigError::Invalid {
                key: "gate.reconcile_every",
                message: "must be longer than zero".to_owned(),
            });
        }
        let room = &self.waiting_room;
        if room.streams_per_user == 0 {
            return Err(ConfigError::Invalid {
                key: "waiting_room.streams_per_user",
                message: "must be at least 1".to_owned(),
            });
        }
        if room.events_every.is_zero() || room.events_every >= room.idle_timeout {
            return Err(ConfigError::Invalid {
                key: "waiting_room.events_every",
                message: "must be longer than zero and shorter than waiting_room.idle_timeout, \
                          or buyers watching events would lose their places"
                    .to_owned(),
            });
        }
        let argon2 = &self.auth.argon2;
        if argon2.iterations == 0
            || argon2.parallelism == 0
            || argon2.memory_kib < 8 * argon2.parallelism
        {
            return Err(ConfigError::Invalid {
                key: "auth.argon2",
                message:
                    "needs iterations >= 1, parallelism >= 1 and memory_kib >= 8 × parallelism"
                        .to_owned(),
            });
        }
        for (key, value) in [
            ("auth.code_attempts", self.auth.code_attempts),
            (
                "orders.max_pending_per_buyer",
                self.orders.max_pending_per_buyer,
            ),
            (
                "auth.login_failures_per_account",
                self.auth.login_failures_per_account,
            ),
            (
                "auth.login_failures_per_account_everywhere",
                self.auth.login_failures_per_account_everywhere,
            ),
            (
                "auth.login_failures_per_ip",
                self.auth.login_failures_per_ip,
            ),
            (
                "auth.account_requests_per_ip",
                self.auth.account_requests_per_ip,
            ),
            (
                "auth.account_requests_per_email",
                self.auth.account_requests_per_email,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    message: "must be at least 1".to_owned(),
                });
            }
        }
        if let Some(url) = &self.mail.smtp_url
            && !matches!(url.scheme(), "smtp" | "smtps")
        {
            return Err(ConfigError::Invalid {
                key: "mail.smtp_url",
                message: format!("expected smtp://… or smtps://…, got {url}"),
            });
        }
        Ok(())
    }

    /// The database to use: the configured URL, or SQLite in `data_dir`.
    pub fn database_url(&self) -> ServiceUrl {
        self.database.url.clone().unwrap_or_else(|| {
            ServiceUrl(format!(
                "sqlite://{}",
                self.data_dir.join("rushline.db").display()
            ))
        })
    }
}

/// What `rushline default-config` prints: every key with its default, commented.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

#[cfg(test)]
// `Jail`'s closures must return `figment::Error`, which is large; that is figment's choice.
#[allow(clippy::result_large_err)]
mod tests {
    use figment::Jail;

    use super::*;

    #[test]
    fn default_config_file_parses_to_the_defaults_and_names_every_key() {
        let parsed = Config::from_figment(Figment::from(Toml::string(DEFAULT_CONFIG))).unwrap();
        assert_eq!(parsed, Config::default());

        let defaults: toml::Table =
            toml::from_str(&toml::to_string(&Config::default()).unwrap()).unwrap();
        fn leaf_keys(prefix: &str, table: &toml::Table, keys: &mut Vec<String>) {
            for (key, value) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match value {
                    toml::Value::Table(section) => leaf_keys(&path, section, keys),
                    _ => keys.push(path),
                }
            }
        }
        let mut keys = Vec::new();
        leaf_keys("", &defaults, &mut keys);
        // Unset optional keys are not serialised; they must still be documented.
        keys.extend(
            [
                "database.url",
                "redis.url",
                "auth.jwt_secret",
                "mail.smtp_url",
                "payments.toss.secret_key",
                "telemetry.otlp_endpoint",
            ]
            .map(String::from),
        );
        keys.extend(
            [
                "bucket",
                "endpoint",
                "region",
                "access_key_id",
                "secret_access_key",
            ]
            .map(|k| format!("images.s3.{k}")),
        );
        for key in keys {
            let (section, name) = key.rsplit_once('.').unwrap_or(("", &key));
            let in_section = if section.is_empty() {
                DEFAULT_CONFIG.split("\n[").next().unwrap().to_owned()
            } else {
                DEFAULT_CONFIG
                    .split(&format!("[{section}]\n"))
                    .nth(1)
                    .unwrap_or_else(|| panic!("default-config has no [{section}]"))
                    .split("\n[")
                    .next()
                    .unwrap()
                    .to_owned()
            };
            assert!(
                in_section.lines().any(|l| l
                    .trim_start_matches("# ")
                    .starts_with(&format!("{name} = "))),
                "default-config does not document {key}"
            );
        }
    }

    #[test]
    fn environment_overrides_file_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "rushline.toml",
                "data_dir = \"/srv/rushline\"\n[http]\naddr = \"0.0.0.0:9000\"\n[log]\nformat = \"json\"\n",
            )?;
            jail.set_env("RUSHLINE_HTTP__ADDR", "127.0.0.1:7000");
            jail.set_env(
                "RUSHLINE_DATABASE__URL",
                "postgres://app:hunter2@db:5432/rushline",
            );
            jail.set_env("RUSHLINE_GATE__URL", "redis://127.0.0.1:6379");
            jail.set_env("RUSHLINE_REDIS__URL", "redis://127.0.0.1:6379/1");
            jail.set_env("RUSHLINE_TEST_POSTGRES_URL", "ignored by the service");
            let config = Config::load(None).unwrap();
            assert_eq!(config.http.addr, "127.0.0.1:7000".parse().unwrap());
            assert_eq!(config.data_dir, PathBuf::from("/srv/rushline"));
            assert_eq!(config.log.format, LogFormat::Json);
            assert_eq!(
                config.database_url().expose(),
                "postgres://app:hunter2@db:5432/rushline"
            );
            assert_eq!(config.gate.url.expose(), "redis://127.0.0.1:6379");
            assert_eq!(
                config.redis.url.unwrap().expose(),
                "redis://127.0.0.1:6379/1"
            );

            jail.set_env("RUSHLINE_DATA_DIR", "/var/lib/rushline");
            let config = Config::load(None).unwrap();
            assert_eq!(config.data_dir, PathBuf::from("/var/lib/rushline"));
            assert_eq!(config.database.url.as_ref().unwrap().scheme(), "postgres");
            Ok(())
        });
    }

    #[test]
    fn digits_in_the_environment_are_strings_where_a_key_wants_one() {
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_REDIS__KEY_PREFIX", "0123");
            jail.set_env("RUSHLINE_AUTH__JWT_SECRET", "1".repeat(32));
            jail.set_env("RUSHLINE_DATABASE__MAX_CONNECTIONS", "7");
            jail.set_env("RUSHLINE_POINTS__EARN_RATE", "0.5");
            jail.set_env("RUSHLINE_AUTH__RESEND_AFTER", "90s");
            let config = Config::load(None).unwrap();
            assert_eq!(config.redis.key_prefix, "0123");
            assert_eq!(config.auth.jwt_secret.unwrap().expose(), "1".repeat(32));
            assert_eq!(config.database.max_connections, 7);
            assert_eq!(config.points.earn_rate, 0.5);
            assert_eq!(config.auth.resend_after, Duration::from_secs(90));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_DATABASE__MAX_CONNECTIONS", "many");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(
                error.starts_with("database.max_connections: ") && error.contains("RUSHLINE_"),
                "{error}"
            );
            Ok(())
        });
    }

    #[test]
    fn identity_keys_come_from_nested_environment_variables() {
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_AUTH__ARGON2__MEMORY_KIB", "65536");
            jail.set_env("RUSHLINE_AUTH__ARGON2__ITERATIONS", "3");
            jail.set_env("RUSHLINE_AUTH__ARGON2__PARALLELISM", "2");
            jail.set_env("RUSHLINE_AUTH__REFRESH_TTL", "7days");
            jail.set_env(
                "RUSHLINE_MAIL__SMTP_URL",
                "smtps://mailer:hunter2@smtp.example.com:465",
            );
            // Credentials of `admin create-user` and `loadtest`, not configuration keys.
            jail.set_env("RUSHLINE_ADMIN_PASSWORD", "s3cret!pw");
            jail.set_env("RUSHLINE_ADMIN_EMAIL", "admin@example.com");
            let config = Config::load(None).unwrap();
            assert_eq!(
                config.auth.argon2,
                Argon2Config {
                    memory_kib: 65536,
                    iterations: 3,
                    parallelism: 2
                }
            );
            assert_eq!(config.auth.refresh_ttl, Duration::from_secs(7 * 86_400));
            let debug = format!("{config:?}");
            assert!(!debug.contains("hunter2"), "{debug}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_AUTH__ARGON2__ITERATIONS", "0");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("auth.argon2: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_MAIL__SMTP_URL", "http://mail.example.com");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("mail.smtp_url: "), "{error}");
            Ok(())
        });
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        let config = Config::default();
        assert_eq!(
            config.database_url().expose(),
            "sqlite://./data/rushline.db"
        );
    }

    #[test]
    fn bad_values_fail_naming_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_HTTP__ADDR", "not-an-address");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("http.addr: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_GATE__URL", "memcached://x");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("gate.url:"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_JOBS__POLL_INTERVAL", "soon");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("jobs.poll_interval: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_POINTS__EARN_RATE", "1.5");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("points.earn_rate: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_TELEMETRY__OTLP_ENDPOINT", "grpc://collector:4317");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("telemetry.otlp_endpoint: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_TELEMETRY__SAMPLE_RATIO", "1.5");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("telemetry.sample_ratio: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("rushline.toml", "[htpp]\naddr = \"127.0.0.1:1\"\n")?;
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("htpp"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn the_payment_provider_is_chosen_explicitly_and_never_falls_back() {
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_PAYMENTS__PROVIDER", "toss");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("payments.toss.secret_key: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_PAYMENTS__TOSS__SECRET_KEY", "test_sk_x");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("payments.provider: "), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_PAYMENTS__PROVIDER", "toss");
            jail.set_env("RUSHLINE_PAYMENTS__TOSS__SECRET_KEY", "test_sk_x");
            assert_eq!(
                Config::load(None).unwrap().payments.provider,
                PaymentProvider::Toss
            );
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_PAYMENTS__PROVIDER", "paypal");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.starts_with("payments.provider: "), "{error}");
            Ok(())
        });
    }

    #[test]
    fn queue_events_must_come_before_a_waiting_place_expires() {
        for (events_every, idle_timeout) in [("0s", "2m"), ("2m", "2m"), ("3m", "2m")] {
            Jail::expect_with(|jail| {
                jail.set_env("RUSHLINE_WAITING_ROOM__EVENTS_EVERY", events_every);
                jail.set_env("RUSHLINE_WAITING_ROOM__IDLE_TIMEOUT", idle_timeout);
                let error = Config::load(None).unwrap_err().to_string();
                assert!(error.starts_with("waiting_room.events_every:"), "{error}");
                Ok(())
            });
        }
    }

    #[test]
    fn a_pay_call_must_end_before_the_sweep_refunds_its_payment() {
        // Three tries of two minutes; or ten short retries whose doubling delays (up to 60 s,
        // doubled by jitter) add up to ten minutes.
        for (timeout, retries, backoff) in [("2m", "2", "200ms"), ("1s", "10", "1s")] {
            Jail::expect_with(|jail| {
                jail.set_env("RUSHLINE_PAYMENTS__TIMEOUT", timeout);
                jail.set_env("RUSHLINE_PAYMENTS__RETRIES", retries);
                jail.set_env("RUSHLINE_PAYMENTS__BACKOFF", backoff);
                let error = Config::load(None).unwrap_err().to_string();
                assert!(error.starts_with("payments.timeout: "), "{error}");
                assert!(error.contains("payments.retries"), "{error}");
                Ok(())
            });
        }
        Jail::expect_with(|jail| {
            jail.set_env("RUSHLINE_PAYMENTS__TIMEOUT", "1m");
            jail.set_env("RUSHLINE_PAYMENTS__RETRIES", "3");
            Config::load(None).expect("four tries of a minute fit");
            Ok(())
        });
    }

    #[cfg(feature = "s3")]
    #[test]
    fn s3_image_storage_parses_with_a_default_region_and_hidden_keys() {
        let config = Config::from_figment(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(
                "[images.s3]\nbucket = \"imgs\"\nendpoint = \"http://127.0.0.1:9000\"\n\
                 access_key_id = \"AKIAEXAMPLE\"\nsecret_access_key = \"s3cr3t-key\"\n",
            )),
        )
        .unwrap();
        let s3 = config.images.s3.as_ref().unwrap();
        assert_eq!(s3.bucket, "imgs");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(
            s3.secret_access_key.as_ref().unwrap().expose(),
            "s3cr3t-key"
        );
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("s3cr3t-key") && !debug.contains("AKIAEXAMPLE"),
            "{debug}"
        );
    }

    #[test]
    fn passwords_never_reach_debug_output() {
        let mut config = Config::default();
        config.database.url = Some(ServiceUrl::from("postgres://app:hunter2@db/rushline"));
        config.redis.url = Some(ServiceUrl::from("redis://:s3cret@cache:6379"));
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("s3cret"),
            "{debug}"
        );
        assert!(
            debug.contains("postgres://app:REDACTED@db/rushline"),
            "{debug}"
        );
    }
}
