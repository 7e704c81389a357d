//! Notifications (an inbox row per recipient and event, and a delivery per further channel),
//! what each account turned off, sellers' Slack webhooks, and wishlists.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::notification::{Channel, Event, Group, Locale, Params};
use uuid::Uuid;

use crate::DbError;

/// Who an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Audience {
    User {
        id: Uuid,
    },
    /// Everyone with the product on their wishlist, when the fan-out runs.
    Wishers {
        product: Uuid,
    },
    /// The entrants of the raffle (of a drop or a trial) offered a place at `at`.
    RaffleOffered {
        raffle: Uuid,
        at: DateTime<Utc>,
    },
    /// The entrants of the raffle never offered a place.
    RaffleLosers {
        raffle: Uuid,
    },
}

impl std::fmt::Display for Audience {
    /// A key naming the audience, for deduplicating its notices.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Audience::User { id } => write!(f, "user:{id}"),
            Audience::Wishers { product } => write!(f, "wishers:{product}"),
            Audience::RaffleOffered { raffle, at } => {
                write!(f, "offered:{raffle}:{}", at.timestamp_micros())
            }
            Audience::RaffleLosers { raffle } => write!(f, "losers:{raffle}"),
        }
    }
}

/// One event to fan out: to `audience`, at most once per recipient for each `(event, subject)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FanOut {
    pub event: Event,
    pub audience: Audience,
    /// What the event is about (an order, a drop, a settlement…): with the event and recipient,
    /// the notification's identity.
    pub subject: String,
    pub params: Params,
}

/// An inbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event: Event,
    pub subject: String,
    pub params: Params,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "sent" => Ok(DeliveryStatus::Sent),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!("unknown delivery status {other:?}")),
        }
    }
}

/// A delivery as an admin sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub user_id: Uuid,
    pub event: Event,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A delivery a sender claimed: everything it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The message id: the same on every attempt.
    pub id: Uuid,
    pub channel: Channel,
    /// This attempt's number, which recording its outcome must name.
    pub attempt: i32,
    pub event: Event,
    pub params: Params,
    pub email: String,
    pub locale: Locale,
    /// The recipient's Slack webhook, for a Slack delivery whose recipient still has one.
    pub webhook_url: Option<String>,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Sent,
    /// Try again at `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// No further attempt.
    Failed {
        error: String,
    },
    /// Not tried after all (the channel's breaker is open): due again at `at`, the attempt not
    /// counted.
    Postponed {
        at: DateTime<Utc>,
    },
}

/// A wishlisted product that is still on sale.
#[derive(Debug, Clone, PartialEq)]
pub struct Wish {
    pub product_id: Uuid,
    pub product_name: String,
    pub price: rushline_domain::Won,
    pub created_at: DateTime<Utc>,
}

/// A drop or time sale of a product starting, which the product's wishers hear of.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    /// The drop's or the time sale's.
    pub id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub price: rushline_domain::Won,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Writes the inbox rows of `fan_out` (one per recipient who has none for its event and
    /// subject yet) and a pending delivery per channel the recipient has not muted for the
    /// event's group: e-mail, and Slack where they set a webhook. Set-based, a transaction per
    /// batch of recipients (so that a fan-out to 100,000 never holds the writer for long);
    /// running it again writes only what is missing. Returns how many inbox rows it wrote.
    async fn fan_out(&self, fan_out: &FanOut, now: DateTime<Utc>) -> Result<u64, DbError>;

    /// `user`'s inbox, newest first, after the `(created_at, id)` cursor.
    async fn inbox(
        &self,
        user: Uuid,
        unread_only: bool,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Notification>, DbError>;

    /// `user`'s notifications created after `(created_at, id)`, oldest first: what a stream has
    /// not pushed yet.
    async fn inbox_since(
        &self,
        user: Uuid,
        since: (DateTime<Utc>, Uuid),
        limit: u32,
    ) -> Result<Vec<Notification>, DbError>;

    /// `false` when `user` has no notification `id` (whoever else's it is).
    async fn mark_read(&self, user: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbError>;

    /// Marks every unread notification of `user` read; returns how many.
    async fn mark_all_read(&self, user: Uuid, now: DateTime<Utc>) -> Result<u64, DbError>;

    async fn unread_count(&self, user: Uuid) -> Result<u64, DbError>;

    /// The `(group, channel)` pairs `user` turned off.
    async fn mutes(&self, user: Uuid) -> Result<Vec<(Group, Channel)>, DbError>;

    /// Turns each pair on (`true`) or off, and sets the locale when given; one transaction.
    async fn set_preferences(
        &self,
        user: Uuid,
        channels: &[(Group, Channel, bool)],
        locale: Option<Locale>,
    ) -> Result<(), DbError>;

    async fn locale(&self, user: Uuid) -> Result<Locale, DbError>;

    /// Sets (`Some`) or removes `user`'s Slack webhook.
    async fn set_slack_webhook(
        &self,
        user: Uuid,
        url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Claims up to `limit` pending deliveries due at `now`, each for `lease` (counting an
    /// attempt); two senders never hold the same one while a lease lasts. A delivery whose
    /// `max_attempts` all ran out without an outcome (its senders died) fails instead.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        max_attempts: i32,
        limit: u32,
    ) -> Result<Vec<Outgoing>, DbError>;

    /// Records attempt `attempt` of delivery `id`; nothing when a later attempt has been claimed
    /// since or the delivery is no longer pending. Returns whether it recorded.
    async fn record_attempt(
        &self,
        id: Uuid,
        attempt: i32,
        outcome: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;

    /// Deliveries of one status (all when `None`), last changed first, after the
    /// `(updated_at, id)` cursor.
    async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Delivery>, DbError>;

    /// Pending deliveries: the outbox's backlog.
    async fn pending_deliveries(&self) -> Result<u64, DbError>;

    /// Deletes notifications created before `before`, with their deliveries; returns how many
    /// notifications.
    async fn purge_notifications(&self, before: DateTime<Utc>) -> Result<u64, DbError>;

    /// Drops opening in `(after, until]`.
    async fn drops_opening(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Opening>, DbError>;

    /// Time sales starting in `(after, until]`.
    async fn sales_starting(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Opening>, DbError>;

    /// Puts `product` on `user`'s wishlist. `Ok(false)` when it was there already; refused
    /// (`DbError::Conflict(WISHLIST_FULL)`) when the list holds `max` products.
    async fn wish(
        &self,
        user: Uuid,
        product: Uuid,
        max: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;

    async fn wishlist_has(&self, user: Uuid, product: Uuid) -> Result<bool, DbError>;

    /// `false` when it was not on the list.
    async fn unwish(&self, user: Uuid, product: Uuid) -> Result<bool, DbError>;

    /// `user`'s wishlist, newest first, after the `(created_at, product_id)` cursor: active
    /// products only.
    async fn wishlist(
        &self,
        user: Uuid,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Wish>, DbError>;
}

/// `DbError::Conflict` of a wish beyond the list's bound.
pub const WISHLIST_FULL: &str = "wishlist_full";
