//! The storage port: the traits every system-of-record backend implements, the rows they return
//! and [`DbError`].
//!
//! The backends (SQLite and PostgreSQL, both in `rushline-store-sql`) live in a crate of their own
//! and must pass the shared [`conformance`] suite. Nothing here knows SQL or HTTP; callers pass the
//! current time in, so that the manual clock of the tests rules every stored time.

pub mod cart;
pub mod catalog;
pub mod claims;
pub mod coupons;
pub mod drops;
mod error;
pub mod identity;
pub mod jobs;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod points;
pub mod raffles;
pub mod reviews;
pub mod settlements;
pub mod stats;
pub mod trials;
pub mod users;

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;

pub use cart::{CART_ITEMS_QUANTITY_CHECK, CartItem, CartStore};
pub use catalog::{
    CatalogStore, ListScope, POOLS_HELD_CHECK, PRODUCT_IMAGES_LIMIT, Product, ProductDetails,
    ProductImage, ProductQuery, TIME_SALES_NO_OVERLAP, TimeSale, product_pool_key,
};
pub use claims::{ClaimRow, ClaimStore, ClaimWrite, CommitOutcome, NO_USER_LIMIT, Pool};
pub use coupons::{
    CampaignFilter, Coupon, CouponCampaign, CouponFilter, CouponStore, NewCoupon, campaign_pool_key,
};
pub use drops::{
    DROP_NOT_SCHEDULED, DropFilter, DropStore, DropWindow, ProductDrop, WaitingRoomSettings,
    drop_pool_key,
};
pub use error::DbError;
pub use identity::{IdentityStore, ResendOutcome, RotateOutcome, VerificationCode, VerifyOutcome};
pub use jobs::{JobRow, JobStatus, JobStore, NewJob};
pub use notifications::{
    Attempt, Audience, Delivery, DeliveryStatus, FanOut, Notification, NotificationStore, Opening,
    Outgoing, WISHLIST_FULL, Wish,
};
pub use orders::{
    NewOrder, NewOrderLine, ORDER_STATUS_CHANGED, Order, OrderEvent, OrderFilter, OrderLine,
    OrderStore, OrderTransition, Redemption,
};
pub use payments::{PAYMENT_STATUS_CHANGED, PAYMENTS_ONE_LIVE_PER_ORDER, Payment, PaymentStore};
pub use points::{PointEntry, PointStore};
pub use raffles::{Entry, NewEntry, RaffleKind, RaffleSettings, RaffleStore, RaffleSweep, Swept};
pub use reviews::{
    NewReview, REVIEWS_APPLICATION_KEY, REVIEWS_ONE_PER_BUYER, Review, ReviewKey, ReviewQuery,
    ReviewRight, ReviewSort, ReviewStore,
};
pub use settlements::{
    SETTLEMENT_PAID, SETTLEMENTS_REVISION_KEY, Settlement, SettlementFilter, SettlementKey,
    SettlementLine, SettlementRun, SettlementStore,
};
pub use stats::{DropSale, ProductRating, RoomFigures, SellerDay, StatsStore};
pub use trials::{
    APPLICATION_STATUS_CHANGED, ApplicationFilter, ApplicationTransition, NewApplication,
    TRIAL_NOT_SCHEDULED, Trial, TrialApplication, TrialCounts, TrialFilter, TrialStore,
    trial_pool_key,
};
pub use users::{USERS_EMAIL_KEY, User, UserStore};

/// The whole storage port, as one object the application holds behind an `Arc`.
#[async_trait]
pub trait Store:
    JobStore
    + UserStore
    + IdentityStore
    + CatalogStore
    + CartStore
    + DropStore
    + ClaimStore
    + OrderStore
    + PaymentStore
    + CouponStore
    + PointStore
    + TrialStore
    + ReviewStore
    + RaffleStore
    + SettlementStore
    + StatsStore
    + NotificationStore
    + Send
    + Sync
    + 'static
{
    /// Brings the schema up to date with this backend's embedded migrations.
    async fn migrate(&self) -> Result<(), DbError>;

    /// A round trip to the database, for `/readyz`.
    async fn ping(&self) -> Result<(), DbError>;

    /// Which backend this is (`sqlite` or `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// The connection pool requests read through (on PostgreSQL the only one), for metrics.
    fn pool_stats(&self) -> PoolStats;
}

/// A connection pool's occupancy at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open now.
    pub size: u32,
    /// Of those, not in use.
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}
