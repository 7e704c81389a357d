//! The rules of rushline with no I/O: time, identifiers, money, state machines and validation.
//!
//! Everything here is plain data and pure functions, so it can be tested without a database and
//! shared by the storage, gate, jobs and HTTP layers. Nothing in this crate may touch the network,
//! the file system or the system clock directly: time comes in through [`Clock`].

pub mod catalog;
pub mod clock;
pub mod coupon;
pub mod drop;
pub mod identity;
pub mod money;
pub mod notification;
pub mod order;
pub mod payment;
pub mod points;
pub mod pricing;
pub mod product;
pub mod raffle;
pub mod review;
pub mod settlement;
pub mod trial;
pub mod user;
pub mod validation;
pub mod waiting_room;

pub use clock::{Clock, ManualClock, SystemClock};
pub use coupon::{
    CampaignStatus, CampaignTerms, CouponScope, CouponStatus, Discount, ValidCampaignTerms,
};
pub use drop::{DropStatus, DropTerms, ValidDropTerms};
pub use money::Won;
pub use order::OrderStatus;
pub use payment::PaymentStatus;
pub use points::{EarnRate, PointKind};
pub use product::ProductStatus;
pub use raffle::{Allocation, EntryStatus, RaffleTerms, ValidRaffleTerms};
pub use review::{RatingHistogram, ReviewDraft, ReviewSource, ValidReview};
pub use settlement::FeeRate;
pub use trial::{ApplicationStatus, TrialStatus, TrialTerms, ValidTrialTerms};
pub use user::Role;
pub use validation::FieldErrors;
pub use waiting_room::{ValidWaitingRoom, WaitingRoomTerms};
