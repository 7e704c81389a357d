//! The application of rushline, between the store and gate below and HTTP above: the claims
//! engine (claim, group commit, reconcile, placing a claim), the order lifecycle, payments and
//! their providers, identity, product reviews and their statistics, the caches of drops, campaigns, trials and the catalog, trial
//! campaigns and their testers, the waiting rooms and their passes, mail, and the handlers of the
//! jobs.
//!
//! It knows no HTTP: no axum, no status codes, no OpenAPI. Every refusal is an [`AppError`] with
//! an [`ErrorCode`], which the server turns into a response in one place.

pub mod breaker;
pub mod cart;
pub mod catalog;
pub mod claims;
pub mod coupons;
pub mod drops;
mod error;
pub mod identity;
pub mod jobs;
pub mod mail;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod raffles;
pub mod reviews;
pub mod rooms;
pub mod settlement;
pub mod stats;
pub mod streams;
pub mod trials;
pub mod wishlist;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use rushline_domain::{Clock, EarnRate, Role};
use rushline_mail::Mailer;
use rushline_ratelimit::RateLimiter;
use rushline_store::Store;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::claims::Claims;
use crate::coupons::CampaignCache;
use crate::drops::DropCache;
use crate::identity::{AccessTokens, IdentityPolicy, Passwords};
use crate::payments::Payments;
use crate::rooms::WaitingRooms;
use crate::settlement::SettlementSettings;
use crate::trials::{TrialCache, TrialSettings};

pub use error::{AppError, ErrorCode};

/// Who calls an operation, as the server authenticated them: their account and its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Everything the application uses, shared by all requests and jobs of a node.
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Present when `redis.url` is configured: caches, rate limits and pub/sub use it.
    pub redis: Option<redis::aio::ConnectionManager>,
    pub tokens: AccessTokens,
    /// Every claim on limited stock: the gate (memory or Redis) and the group-commit writer.
    pub claims: Claims,
    pub drops: DropCache,
    pub campaigns: CampaignCache,
    pub trials: TrialCache,
    pub trial_settings: TrialSettings,
    /// The waiting rooms in front of drops (memory or Redis) and their passes.
    pub rooms: WaitingRooms,
    pub orders: OrderSettings,
    /// The share of a completed order's paid amount its buyer earns in points.
    pub earn_rate: EarnRate,
    /// The business day's zone and the fees of settlements.
    pub settlement: SettlementSettings,
    /// The payment providers, each behind a timeout, retries and a circuit breaker.
    pub payments: Payments,
    pub passwords: Passwords,
    /// In process, or in Redis when `redis.url` is configured.
    pub limiter: Arc<dyn RateLimiter>,
    /// Used by the mail job only; requests enqueue mail instead.
    pub mailer: Arc<dyn Mailer>,
    pub identity: IdentityPolicy,
    /// Product pages and listings, cached and invalidated across nodes.
    pub catalog: Catalog,
    /// The Slack client, the delivery settings and the inbox streams.
    pub notifications: crate::notifications::Notifications,
}

/// How orders move through time.
#[derive(Debug, Clone)]
pub struct OrderSettings {
    /// How long a new order holds its stock waiting for payment.
    pub hold_for: TimeDelta,
    /// The most orders awaiting payment one buyer may have: holds are stock others cannot buy.
    pub max_pending_per_buyer: u32,
    /// Paid → shipping this long after payment.
    pub ship_after: TimeDelta,
    /// Shipping → delivered this long after shipping.
    pub deliver_after: TimeDelta,
    /// How long a delivered order may be returned; then it is completed.
    pub return_window: TimeDelta,
    /// Return requested → returned this long after the request.
    pub return_process: TimeDelta,
}

/// What `/readyz` found. The causes of a failure go to the log, never to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub database: Health,
    /// Absent when Redis is not configured.
    pub redis: Option<Health>,
}

/// A dependency's state as a probe may tell it to anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    Unreachable,
    TimedOut,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.database == Health::Ok && self.redis.is_none_or(|r| r == Health::Ok)
    }
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unreachable => "unreachable",
            Self::TimedOut => "timed_out",
        }
    }

    /// Judges a probe that had `deadline` to answer; a failure's cause is logged under `what`.
    async fn of<T, E: std::fmt::Display>(
        what: &str,
        deadline: Duration,
        probe: impl Future<Output = Result<T, E>>,
    ) -> Self {
        match tokio::time::timeout(deadline, probe).await {
            Ok(Ok(_)) => Self::Ok,
            Ok(Err(e)) => {
                tracing::warn!(dependency = what, error = %e, "readiness probe failed");
                Self::Unreachable
            }
            Err(_) => {
                tracing::warn!(dependency = what, ?deadline, "readiness probe timed out");
                Self::TimedOut
            }
        }
    }
}

impl App {
    /// Checks every dependency, each within a short deadline so that a probe never hangs.
    pub async fn readiness(&self) -> Readiness {
        const DEADLINE: Duration = Duration::from_secs(2);
        let database = Health::of("database", DEADLINE, self.store.ping()).await;
        let redis = match &self.redis {
            None => None,
            Some(redis) => {
                let mut redis = redis.clone();
                let ping = redis::cmd("PING");
                let probe = ping.query_async::<String>(&mut redis);
                Some(Health::of("redis", DEADLINE, probe).await)
            }
        };
        Readiness { database, redis }
    }
}
