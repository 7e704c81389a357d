use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a payment stands. `pending` is written before the provider is called, so that a charge
/// whose node died mid-call is found and refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Approved,
    /// The provider refused the card: nothing was charged.
    Declined,
    /// The provider could not be reached or the breaker was open: nothing was charged.
    Failed,
    /// Charged, and to be given back: the refund job is on its way.
    Refunding,
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Pending,
        PaymentStatus::Approved,
        PaymentStatus::Declined,
        PaymentStatus::Failed,
        PaymentStatus::Refunding,
        PaymentStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Approved => "approved",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunding => "refunding",
            PaymentStatus::Refunded => "refunded",
        }
    }
}

impl FromStr for PaymentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        PaymentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown payment status {s:?}"))
    }
}

/// Whether `key` is shaped as Toss Payments issues a `paymentKey`: 1–200 (Toss's documented
/// maximum) ASCII letters, digits, `-` and `_`. It goes into a URL path and a header of the
/// calls to Toss, so nothing else may pass.
pub fn is_payment_key(key: &str) -> bool {
    (1..=200).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
