//! The one path every notification takes. A change that someone must hear about enqueues a
//! [`Notify`] job in its own transaction (the outbox), built by [`notice`]. That job fans the
//! event out, set-based, to an inbox row per recipient and a pending delivery per further channel
//! (e-mail; Slack for a seller with a webhook) the recipient has not muted. The periodic job
//! `deliver_notifications` sends the deliveries: at most [`MAX_ATTEMPTS`] attempts with backoff,
//! each message under one id on every attempt.
//!
//! Guarantee: one inbox row and one delivery per (event, recipient, channel), whatever the
//! retries and nodes; a delivery is held by one sender at a time (a lease), so two workers never
//! send it at once. Sending is at least once: a sender that dies after sending and before
//! recording sends again once its lease is over, under the same message id (the e-mail's
//! `Message-ID`), by which a receiver drops the copy.

pub mod inbox;
pub mod slack;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use futures::{StreamExt, TryStreamExt};
use moka::future::Cache;
use rushline_domain::notification::{Channel, Event, Params};
use rushline_jobs::{Job, Registry, new_job};
use rushline_mail::{Mail, MailError};
use rushline_store::{Attempt, Audience, FanOut, NewJob, Outgoing};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::breaker::BreakerSettings;
use crate::streams::Streams;
use crate::{App, AppError};

pub use slack::{Posted, Slack, check_webhook};

/// Attempts per delivery, the first included.
pub const MAX_ATTEMPTS: i32 = 3;
/// How long a sender holds a claimed delivery: past it, another may try.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// Deliveries claimed at once, and sent concurrently.
const BATCH: u32 = 100;
const CONCURRENCY: usize = 16;
/// A run of the delivery job stops claiming after this long; the next run goes on.
const RUN_FOR: Duration = Duration::from_secs(20);

/// How notifications behave on a node.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    /// A seller's webhook URL must start with one of these.
    pub slack_webhook_prefixes: Vec<String>,
    pub slack_timeout: Duration,
    pub slack_breaker: BreakerSettings,
    /// The first retry's delay; each next one doubles.
    pub retry_after: TimeDelta,
    /// How long before a hold runs out its buyer is warned.
    pub hold_warning: TimeDelta,
    /// How long an inbox keeps a notification.
    pub keep_for: TimeDelta,
    /// `/me/notifications/events` streams one account may hold open on a node.
    pub streams_per_user: usize,
}

/// Notifications on a node: its settings, the Slack client, and the streams it pushes to.
pub struct Notifications {
    pub settings: NotificationSettings,
    pub slack: Slack,
    pub streams: Streams,
    /// The inboxes this node's fan-outs wrote to: one recipient, or `None` for many at once.
    written: broadcast::Sender<Option<Uuid>>,
    /// Notices this node enqueued from a periodic look (expiring holds, wishlist alerts, sold
    /// out), by dedupe key: the next look skips them instead of inserting them again. Another
    /// node enqueueing one again is a no-op (the dedupe key).
    told: Cache<String, ()>,
}

impl Notifications {
    pub fn new(settings: NotificationSettings, clock: Arc<dyn rushline_domain::Clock>) -> Self {
        let slack = Slack::new(
            settings.slack_timeout,
            settings.slack_breaker.clone(),
            clock,
        );
        let streams = Streams::new(
            "rushline_notification_event_streams",
            settings.streams_per_user,
        );
        Self {
            slack,
            streams,
            written: broadcast::channel(1024).0,
            told: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            settings,
        }
    }

    /// Whether this node enqueued the notice with `key` within the last hour.
    pub async fn told(&self, key: &str) -> bool {
        self.told.contains_key(key)
    }

    /// Enqueues those of `jobs` this node has not told yet, in one transaction. A job without a
    /// dedupe key is always enqueued: nothing names it to remember.
    pub async fn enqueue_untold(
        &self,
        store: &dyn rushline_store::Store,
        jobs: Vec<NewJob>,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut fresh = Vec::with_capacity(jobs.len());
        for job in jobs {
            match &job.dedupe_key {
                Some(key) if self.told.contains_key(key) => {}
                _ => fresh.push(job),
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        store.enqueue_all(&fresh, now).await?;
        for key in fresh.into_iter().filter_map(|job| job.dedupe_key) {
            self.told.insert(key, ()).await;
        }
        Ok(())
    }

    /// Wakes when this node writes to an inbox; the streams of other nodes' fan-outs see them at
    /// their next poll.
    pub fn subscribe(&self) -> broadcast::Receiver<Option<Uuid>> {
        self.written.subscribe()
    }
}

/// An event on its way from the transaction that caused it to its recipients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notify {
    pub event: Event,
    pub audience: Audience,
    pub subject: String,
    pub params: Params,
}

impl Job for Notify {
    const KIND: &'static str = "notify";
}

/// The `notify` job telling `audience` of `event` about `subject`, to enqueue in the transaction
/// of the change that causes it. `params` fills the event's templates and must name each of
/// [`Event::params`]. Enqueued once per (event, subject, audience).
pub fn notice(
    event: Event,
    audience: Audience,
    subject: impl fmt::Display,
    params: impl IntoIterator<Item = (&'static str, String)>,
    at: DateTime<Utc>,
) -> NewJob {
    let params: Params = params
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    debug_assert!(
        event.params().iter().all(|name| params.contains_key(*name)),
        "{event} needs {:?}, got {params:?}",
        event.params()
    );
    let subject = subject.to_string();
    let mut job = new_job(
        &Notify {
            event,
            audience,
            subject: subject.clone(),
            params,
        },
        at,
    );
    job.dedupe_key = Some(notice_key(event, &subject, audience));
    job
}

/// The dedupe key of the notice of `event` about `subject` to `audience`.
pub fn notice_key(event: Event, subject: impl fmt::Display, audience: Audience) -> String {
    format!("notify:{event}:{subject}:{audience}")
}

/// A time as templates show it: to the minute, in UTC.
pub fn shown(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(crate) fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let fan_out = app.clone();
    registry.handle(move |job: Notify| {
        let app = fan_out.clone();
        async move { Ok(publish(&app, job).await.map(drop)?) }
    });
    let deliver = app.clone();
    registry.every("deliver_notifications", Duration::from_secs(1), move |_| {
        let app = deliver.clone();
        async move {
            deliver_due(&app)
                .await
                .map(drop)
                .map_err(|e| anyhow::anyhow!("delivering notifications failed: {e:?}"))
        }
    });
    let purge = app.clone();
    registry.every(
        "purge_notifications",
        Duration::from_secs(3600),
        move |due| {
            let app = purge.clone();
            async move {
                let before = due - app.notifications.settings.keep_for;
                let purged = app.store.purge_notifications(before).await?;
                tracing::info!(purged, "purged old notifications");
                Ok(())
            }
        },
    );
    let holds = app.clone();
    registry.every("warn_expiring_holds", Duration::from_secs(10), move |_| {
        let app = holds.clone();
        async move {
            warn_expiring_holds(&app, app.clock.now())
                .await
                .map_err(|e| anyhow::anyhow!("warning of expiring holds failed: {e:?}"))
        }
    });
}

/// Fans `notify` out to its audience's inboxes and channels now; returns how many inboxes it
/// wrote to. The `notify` job calls it, and so do the jobs that must look something up first.
pub(crate) async fn publish(app: &App, notify: Notify) -> Result<u64, AppError> {
    let started = Instant::now();
    let event = notify.event;
    let audience = notify.audience;
    let fan_out = FanOut {
        event,
        audience,
        subject: notify.subject,
        params: notify.params,
    };
    let written = app.store.fan_out(&fan_out, app.clock.now()).await?;
    metrics::counter!("rushline_notifications_total", "event" => event.as_str()).increment(written);
    if written > 0 {
        let to = match audience {
            Audience::User { id } => Some(id),
            Audience::Wishers { .. }
            | Audience::RaffleOffered { .. }
            | Audience::RaffleLosers { .. } => None,
        };
        // No stream listening is fine.
        let _ = app.notifications.written.send(to);
    }
    tracing::info!(%event, written, elapsed = ?started.elapsed(), "notification fanned out");
    Ok(written)
}

/// How far back before the warning a run looks again: a hold is read by the runs of the last
/// 30 s before its warning (three, every 10 s), so a run or two that fail or are skipped cost
/// nothing, and no run reads every hold of a sale that is still minutes from its warning.
const HOLDS_LOOK_BACK: TimeDelta = TimeDelta::seconds(30);

/// Tells each buyer whose hold runs out a warning from `now` (within the look-back), once: the
/// runs' windows overlap, and a node-local cache and the dedupe key skip what was told.
async fn warn_expiring_holds(app: &App, now: DateTime<Utc>) -> Result<(), AppError> {
    let warning = app.notifications.settings.hold_warning;
    let until = now + warning;
    let expiring = app
        .store
        .holds_expiring((until - HOLDS_LOOK_BACK).max(now), until)
        .await?;
    let jobs: Vec<NewJob> = expiring
        .into_iter()
        .map(|(order, buyer, expires_at)| {
            notice(
                Event::HoldExpiring,
                Audience::User { id: buyer },
                order,
                [
                    ("order", order.to_string()),
                    ("expires_at", shown(expires_at)),
                ],
                now,
            )
        })
        .collect();
    app.notifications
        .enqueue_untold(app.store.as_ref(), jobs, now)
        .await
}

/// Sends the deliveries due now, batch after batch, until none is due or the run has gone on for
/// [`RUN_FOR`]. Returns how many attempts it made. Any number of senders may run at once.
pub async fn deliver_due(app: &App) -> Result<usize, AppError> {
    let started = Instant::now();
    let mut attempted = 0;
    while started.elapsed() < RUN_FOR {
        let batch = app
            .store
            .claim_deliveries(app.clock.now(), LEASE, MAX_ATTEMPTS, BATCH)
            .await?;
        if batch.is_empty() {
            break;
        }
        attempted += batch.len();
        futures::stream::iter(batch)
            .map(|outgoing| deliver(app, outgoing))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
    }
    let backlog = app.store.pending_deliveries().await?;
    metrics::gauge!("rushline_notification_backlog").set(backlog as f64);
    Ok(attempted)
}

/// Makes one attempt at a claimed delivery and records how it went.
pub async fn deliver(app: &App, outgoing: Outgoing) -> Result<(), AppError> {
    let outcome = send(app, &outgoing).await;
    let label = match &outcome {
        Attempt::Sent => "sent",
        Attempt::Retry { .. } => "retry",
        Attempt::Failed { .. } => "failed",
        Attempt::Postponed { .. } => "postponed",
    };
    metrics::counter!("rushline_notification_deliveries_total", "channel" => outgoing.channel.as_str(), "outcome" => label)
        .increment(1);
    if let Attempt::Retry { error, .. } | Attempt::Failed { error } = &outcome {
        tracing::warn!(delivery = %outgoing.id, channel = %outgoing.channel, attempt = outgoing.attempt, outcome = label, error, "notification not delivered");
    }
    app.store
        .record_attempt(outgoing.id, outgoing.attempt, &outcome, app.clock.now())
        .await?;
    Ok(())
}

/// Sends one delivery; does not record it. Tests call it to stand for a sender that dies between
/// sending and recording.
pub async fn send(app: &App, outgoing: &Outgoing) -> Attempt {
    let rendered = outgoing.event.render(outgoing.locale, &outgoing.params);
    let now = app.clock.now();
    let retry = |error: String| {
        if outgoing.attempt >= MAX_ATTEMPTS {
            Attempt::Failed { error }
        } else {
            let backoff = app.notifications.settings.retry_after
                * 2_i32.pow(u32::try_from(outgoing.attempt - 1).unwrap_or(0));
            Attempt::Retry {
                at: now + backoff,
                error,
            }
        }
    };
    match outgoing.channel {
        Channel::Email => {
            let mail = Mail {
                to: outgoing.email.clone(),
                subject: rendered.title,
                text: format!("{}\n", rendered.body),
                message_id: Some(message_id(outgoing.id)),
            };
            match app.mailer.send(&mail).await {
                Ok(()) => Attempt::Sent,
                Err(MailError::Message(error)) => Attempt::Failed { error },
                Err(e) => retry(e.to_string()),
            }
        }
        Channel::Slack => {
            let Some(url) = &outgoing.webhook_url else {
                return Attempt::Failed {
                    error: "the recipient removed their Slack webhook".to_owned(),
                };
            };
            let text = format!("*{}*\n{}", rendered.title, rendered.body);
            match app.notifications.slack.post(url, &text).await {
                Posted::Delivered => Attempt::Sent,
                Posted::Refused(error) => Attempt::Failed { error },
                Posted::SlowDown { at, error } if outgoing.attempt < MAX_ATTEMPTS => {
                    Attempt::Retry { at, error }
                }
                Posted::SlowDown { error, .. } | Posted::Failed(error) => retry(error),
                // Not tried, so not counted: again once the breaker lets a trial call through.
                Posted::Open => Attempt::Postponed {
                    at: now + app.notifications.settings.slack_breaker.open_for,
                },
            }
        }
    }
}

/// A delivery's message id, the same on every attempt.
pub fn message_id(delivery: Uuid) -> String {
    format!("{delivery}@rushline")
}
