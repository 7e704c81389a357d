//! Wiring: from a [`Config`] to the objects a node runs, backends picked once from URL schemes.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use chrono::TimeDelta;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rushline_app::breaker::BreakerSettings;
use rushline_app::claims::{Claims, StorePools};
use rushline_app::coupons::CampaignCache;
use rushline_app::drops::DropCache;
use rushline_app::identity::{AccessTokens, IdentityPolicy, Passwords};
use rushline_app::notifications::{NotificationSettings, Notifications};
use rushline_app::payments::{GuardSettings, Payments, Toss};
use rushline_app::rooms::WaitingRooms;
use rushline_app::settlement::SettlementSettings;
use rushline_app::trials::{TrialCache, TrialSettings};
use rushline_app::{App, OrderSettings};
use rushline_domain::{Clock, EarnRate, FeeRate};
use rushline_gate::{Gate, MemoryGate, MemoryRoom, RedisGate, RedisRoom, WaitingRoom};
use rushline_jobs::{Worker, WorkerOptions};
use rushline_mail::{FileMailer, Mailer, SmtpMailer};
use rushline_ratelimit::{Limit, MemoryRateLimiter, RateLimiter, RedisRateLimiter};
use rushline_server::AppState;
use rushline_store::Store;
use rushline_store_sql::{PgStore, SqliteStore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::Config;
use crate::config::{PaymentProvider, ServiceUrl};

/// One node: the shared state behind the HTTP API and the job worker.
pub struct Rushline {
    pub config: Config,
    pub state: AppState,
    registry: Arc<rushline_jobs::Registry>,
}

impl Rushline {
    /// Connects to every configured backend. Does not migrate and does not listen.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let redis = match &config.redis.url {
            Some(url) => Some(
                connect_redis(url, config.redis.response_timeout)
                    .await
                    .context("redis.url")?,
            ),
            None => None,
        };
        let secret = jwt_secret(&config)?;
        let payments = payments(&config, clock.clone())?;
        let (gate, room) = open_gate(&config, store.clone()).await?;
        let argon2 = &config.auth.argon2;
        let passwords = Passwords::new(argon2.memory_kib, argon2.iterations, argon2.parallelism)
            .map_err(|e| anyhow::anyhow!("auth.argon2: {e}"))?;
        let limiter: Arc<dyn RateLimiter> = match &redis {
            Some(conn) => Arc::new(RedisRateLimiter::new(
                conn.clone(),
                config.redis.key_prefix.clone(),
            )),
            None => Arc::new(MemoryRateLimiter::new()),
        };
        let catalog = crate::catalog::open_catalog(&config, redis.as_ref())?;
        let notifications = Notifications::new(notification_settings(&config)?, clock.clone());
        let app = Arc::new(App {
            claims: Claims::new(
                gate,
                store.clone(),
                TimeDelta::from_std(config.gate.orphan_after).context("gate.orphan_after")?,
            ),
            store,
            clock,
            redis,
            tokens: AccessTokens::new(&secret, TimeDelta::from_std(config.auth.access_ttl)?),
            drops: DropCache::default(),
            campaigns: CampaignCache::default(),
            trials: TrialCache::default(),
            trial_settings: TrialSettings {
                overdue_bar: TimeDelta::days(i64::from(config.trials.overdue_bar_days)),
            },
            rooms: WaitingRooms::new(
                room,
                &secret,
                TimeDelta::from_std(config.waiting_room.idle_timeout)
                    .context("waiting_room.idle_timeout")?,
                config.waiting_room.events_every,
                config.waiting_room.streams_per_user,
            ),
            payments,
            orders: OrderSettings {
                hold_for: TimeDelta::from_std(config.orders.hold_for).context("orders.hold_for")?,
                max_pending_per_buyer: config.orders.max_pending_per_buyer,
                ship_after: TimeDelta::from_std(config.orders.ship_after)
                    .context("orders.ship_after")?,
                deliver_after: TimeDelta::from_std(config.orders.deliver_after)
                    .context("orders.deliver_after")?,
                return_window: TimeDelta::from_std(config.orders.return_window)
                    .context("orders.return_window")?,
                return_process: TimeDelta::from_std(config.orders.return_process)
                    .context("orders.return_process")?,
            },
            earn_rate: EarnRate::from_fraction(config.points.earn_rate)
                .context("points.earn_rate must be between 0 and 1")?,
            settlement: SettlementSettings {
                zone: config
                    .settlement
                    .timezone
                    .parse()
                    .map_err(|e| anyhow::anyhow!("settlement.timezone: {e}"))?,
                platform_fee: FeeRate::from_fraction(config.settlement.platform_fee_rate)
                    .context("settlement.platform_fee_rate must be between 0 and 1")?,
                payment_fee: FeeRate::from_fraction(config.settlement.payment_fee_rate)
                    .context("settlement.payment_fee_rate must be between 0 and 1")?,
            },
            passwords,
            limiter,
            mailer: mailer(&config)?,
            identity: identity_policy(&config)?,
            catalog,
            notifications,
        });
        let registry = Arc::new(rushline_app::jobs::registry(
            &app,
            config.gate.reconcile_every,
        ));
        let state = AppState::new(app, rushline_server::prometheus_handle())
            .with_trusted_proxies(config.http.trusted_proxies.clone());
        Ok(Self {
            config,
            state,
            registry,
        })
    }

    pub fn router(&self) -> Router {
        rushline_server::router(self.state.clone(), self.config.http.request_timeout)
    }

    /// A job worker for this node; tests call `run_due` on it after moving the clock.
    pub fn worker(&self) -> Worker {
        Worker::new(
            self.state.store.clone(),
            self.state.clock.clone(),
            self.registry.clone(),
            WorkerOptions {
                poll_interval: self.config.jobs.poll_interval,
                lease: self.config.jobs.lease,
                concurrency: self.config.jobs.concurrency,
                deadline: self.config.jobs.deadline,
                deadlines: self
                    .config
                    .jobs
                    .deadlines
                    .iter()
                    .map(|(kind, deadline)| (kind.clone(), **deadline))
                    .collect(),
                ..WorkerOptions::default()
            },
        )
    }

    /// Serves HTTP on `listener` (and runs jobs when `jobs`) until `shutdown` is cancelled, then
    /// drains in-flight requests, the group commit and the jobs still running.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
        jobs: bool,
    ) -> anyhow::Result<()> {
        let worker = jobs.then(|| tokio::spawn(self.worker().run(shutdown.clone())));
        let stopping = shutdown.clone();
        rushline_server::serve(
            listener,
            self.router(),
            async move { stopping.cancelled().await },
            self.config.http.limits(),
        )
        .await
        .context("HTTP server failed")?;
        shutdown.cancel();
        if let Some(worker) = worker {
            worker.await.context("job worker panicked")?;
        }
        self.flush_group_commit().await;
        Ok(())
    }

    /// `rushline worker`: runs jobs until `shutdown` is cancelled, serving only `/healthz` and
    /// `/metrics` on `listener`; then waits for the jobs still running and their group commit.
    pub async fn work(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let worker = tokio::spawn(self.worker().run(shutdown.clone()));
        let stopping = shutdown.clone();
        rushline_server::serve(
            listener,
            rushline_server::worker_router(self.state.clone()),
            async move { stopping.cancelled().await },
            self.config.http.limits(),
        )
        .await
        .context("HTTP server failed")?;
        shutdown.cancel();
        worker.await.context("job worker panicked")?;
        self.flush_group_commit().await;
        Ok(())
    }

    /// Writes whose request went away (it timed out) are still in the group commit: commit them
    /// before the process exits, for at most `http.shutdown_grace`.
    async fn flush_group_commit(&self) {
        let grace = self.config.http.shutdown_grace;
        if tokio::time::timeout(grace, self.state.claims.flush())
            .await
            .is_err()
        {
            tracing::warn!(?grace, "the group commit did not finish in time");
        }
    }
}

/// The system of record named by `database.url` (SQLite in `data_dir` by default).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    Ok(match url.scheme() {
        "sqlite" => {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
            Arc::new(
                SqliteStore::connect(url.expose())
                    .await
                    .with_context(|| format!("cannot open {url}"))?,
            )
        }
        _ => Arc::new(
            PgStore::connect(url.expose(), config.database.max_connections)
                .with_context(|| format!("database.url {url}"))?,
        ),
    })
}

/// The claim gate named by `gate.url` (either way it rebuilds pools from the store) and the
/// waiting rooms beside it: in process when `gate.url` is `memory`, else on one connection to
/// the gate's Redis, under the same key prefix.
async fn open_gate(
    config: &Config,
    store: Arc<dyn Store>,
) -> anyhow::Result<(Arc<dyn Gate>, Arc<dyn WaitingRoom>)> {
    let source = Arc::new(StorePools(store));
    if config.gate.url.expose() == "memory" {
        return Ok((
            Arc::new(MemoryGate::new(source)),
            Arc::new(MemoryRoom::new()),
        ));
    }
    let conn = connect_redis(&config.gate.url, config.redis.response_timeout)
        .await
        .context("gate.url")?;
    let prefix = &config.redis.key_prefix;
    Ok((
        Arc::new(RedisGate::new(conn.clone(), prefix.clone(), source)),
        Arc::new(RedisRoom::new(conn, prefix.clone())),
    ))
}

/// How long start-up waits for a Redis: one that is down fails `serve` within seconds, with the
/// key at fault, rather than after minutes of silent retries.
const REDIS_START_TIMEOUT: Duration = Duration::from_secs(5);
/// Each connection attempt, at start and on every reconnect, gives up on a silent host after this
/// instead of the operating system's minutes.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

async fn connect_redis(
    url: &ServiceUrl,
    response_timeout: Duration,
) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url.expose()).with_context(|| format!("invalid URL {url}"))?;
    // Once the connection drops, every command waits on one shared reconnection, with its
    // retries. The crate's defaults wait 1 s, then multiply by its `factor` (100, capped at a
    // minute) for six retries: a Redis back after three seconds went unused for a minute, and
    // requests hung until their timeout meanwhile. One retry after a second (or two, with
    // jitter) instead: a command that still finds Redis gone fails (503) within seconds, and the
    // next one starts a new attempt, so the node is back as soon as Redis is.
    // A Redis that keeps the connection but stops answering is given up on after
    // `response_timeout`: the request gets its 503 instead of waiting for its own timeout.
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(REDIS_CONNECT_TIMEOUT)
        .set_response_timeout(response_timeout)
        .set_factor(1)
        .set_max_delay(1_000)
        .set_number_of_retries(1);
    tokio::time::timeout(
        REDIS_START_TIMEOUT,
        ConnectionManager::new_with_config(client, config),
    )
    .await
    .map_err(|_| {
        anyhow::anyhow!(
            "Redis at {url} did not answer within {} s",
            REDIS_START_TIMEOUT.as_secs()
        )
    })?
    .with_context(|| format!("cannot reach Redis at {url}"))
}

/// SMTP when `mail.smtp_url` is set, else the development sink in `data_dir/mail`.
fn mailer(config: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match &config.mail.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url.expose(), &config.mail.from)?),
        None => {
            let dir = config.data_dir.join("mail");
            tracing::info!(dir = %dir.display(), "mail.smtp_url is not set: mail is written to files and logged");
            Arc::new(FileMailer::new(dir, &config.mail.from)?)
        }
    })
}

fn identity_policy(config: &Config) -> anyhow::Result<IdentityPolicy> {
    let auth = &config.auth;
    let window =
        TimeDelta::from_std(auth.login_failure_window).context("auth.login_failure_window")?;
    let account_window =
        TimeDelta::from_std(auth.account_request_window).context("auth.account_request_window")?;
    Ok(IdentityPolicy {
        refresh_ttl: TimeDelta::from_std(auth.refresh_ttl).context("auth.refresh_ttl")?,
        code_ttl: TimeDelta::from_std(auth.code_ttl).context("auth.code_ttl")?,
        code_attempts: i32::try_from(auth.code_attempts).context("auth.code_attempts")?,
        resend_after: TimeDelta::from_std(auth.resend_after).context("auth.resend_after")?,
        account_login_failures: Limit {
            max: auth.login_failures_per_account,
            per: window,
        },
        account_login_failures_everywhere: Limit {
            max: auth.login_failures_per_account_everywhere,
            per: window,
        },
        ip_login_failures: Limit {
            max: auth.login_failures_per_ip,
            per: window,
        },
        ip_account_requests: Limit {
            max: auth.account_requests_per_ip,
            per: account_window,
        },
        email_account_requests: Limit {
            max: auth.account_requests_per_email,
            per: account_window,
        },
        unverified_ttl: TimeDelta::from_std(auth.unverified_ttl).context("auth.unverified_ttl")?,
    })
}

/// The shortest token-signing secret accepted from any source, in bytes.
const MIN_JWT_SECRET: usize = 32;

/// The configured token-signing secret, else the one generated into `data_dir` on first start.
/// A short secret is refused wherever it comes from: anyone could guess it and sign an admin's
/// token.
fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.auth.jwt_secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let path = config.data_dir.join("jwt_secret");
    let secret = match std::fs::read_to_string(&path) {
        Ok(hex) => {
            hex::decode(hex.trim()).with_context(|| format!("{} is not hex", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate_jwt_secret(config, &path)?,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    anyhow::ensure!(
        secret.len() >= MIN_JWT_SECRET,
        "{} holds a {}-byte secret, shorter than {MIN_JWT_SECRET}: remove it to have a new one \
         generated (every token signed with the old one stops working), or set auth.jwt_secret",
        path.display(),
        secret.len()
    );
    Ok(secret)
}

/// Writes a new secret durably before anyone can read it: into a private temporary file, synced,
/// then linked into place, which fails if another process got there first (its secret is
/// then the one), and the directory synced, so that a crash leaves either no file or a whole one.
fn generate_jwt_secret(config: &Config, path: &Path) -> anyhow::Result<Vec<u8>> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data_dir {}", dir.display()))?;
    let secret: [u8; MIN_JWT_SECRET] = rand::random();
    let temporary = dir.join(format!("jwt_secret.{:016x}.tmp", rand::random::<u64>()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    file.write_all(hex::encode(secret).as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&temporary, path);
    std::fs::remove_file(&temporary)?;
    match linked {
        Ok(()) => {
            std::fs::File::open(dir)?.sync_all()?;
            tracing::info!(path = %path.display(), "generated a token-signing secret; set auth.jwt_secret to share one across nodes");
            Ok(secret.to_vec())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let hex = std::fs::read_to_string(path)?;
            hex::decode(hex.trim()).with_context(|| format!("{} is not hex", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

fn notification_settings(config: &Config) -> anyhow::Result<NotificationSettings> {
    let settings = &config.notifications;
    Ok(NotificationSettings {
        slack_webhook_prefixes: settings.slack_webhook_prefixes.clone(),
        slack_timeout: settings.slack_timeout,
        slack_breaker: BreakerSettings {
            window: settings.slack_breaker_window,
            failure_ratio: settings.slack_breaker_failure_ratio,
            open_for: TimeDelta::from_std(settings.slack_breaker_open_for)
                .context("notifications.slack_breaker_open_for")?,
        },
        retry_after: TimeDelta::from_std(settings.retry_after)
            .context("notifications.retry_after")?,
        hold_warning: TimeDelta::from_std(settings.hold_warning)
            .context("notifications.hold_warning")?,
        keep_for: TimeDelta::days(i64::from(settings.keep_days)),
        streams_per_user: settings.streams_per_user,
    })
}

/// The configured provider (never both), behind a breaker.
fn payments(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Payments> {
    let settings = &config.payments;
    let guard = GuardSettings {
        timeout: settings.timeout,
        retries: settings.retries,
        backoff: settings.backoff,
        breaker: BreakerSettings {
            window: settings.breaker_window,
            failure_ratio: settings.breaker_failure_ratio,
            open_for: TimeDelta::from_std(settings.breaker_open_for)
                .context("payments.breaker_open_for")?,
        },
    };
    let toss = match (settings.provider, &settings.toss.secret_key) {
        (PaymentProvider::Sandbox, _) => None,
        (PaymentProvider::Toss, Some(key)) => {
            Some(Toss::new(settings.toss.base_url.clone(), key.expose()))
        }
        (PaymentProvider::Toss, None) => {
            anyhow::bail!("payments.toss.secret_key is required with payments.provider = \"toss\"")
        }
    };
    Ok(Payments::new(guard, toss, clock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_secret_is_generated_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let first = jwt_secret(&config).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(
            jwt_secret(&config).unwrap(),
            first,
            "the stored secret is reused"
        );
        let mode = std::fs::metadata(config.data_dir.join("jwt_secret"))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );

        let configured = Config {
            auth: crate::config::AuthConfig {
                jwt_secret: Some("a-configured-secret-of-32-chars-or-more".into()),
                ..Default::default()
            },
            ..config
        };
        assert_eq!(
            jwt_secret(&configured).unwrap(),
            b"a-configured-secret-of-32-chars-or-more"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&configured.data_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            ["jwt_secret"],
            "no temporary file is left behind"
        );
    }

    #[test]
    fn a_short_or_empty_stored_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        for stored in ["", "00", &"ab".repeat(31)] {
            std::fs::write(dir.path().join("jwt_secret"), stored).unwrap();
            let refused = jwt_secret(&config).unwrap_err().to_string();
            assert!(refused.contains("shorter than 32"), "{refused}");
        }
        std::fs::write(dir.path().join("jwt_secret"), "ab".repeat(32)).unwrap();
        assert_eq!(jwt_secret(&config).unwrap(), [0xab; 32]);
    }
}
