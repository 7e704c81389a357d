//! The order lifecycle as a state machine: which transitions exist and what each one means for
//! the stock an order holds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Stock is held until the hold expires.
    PendingPayment,
    Paid,
    Shipping,
    Delivered,
    /// The return window closed: final.
    Completed,
    /// Cancelled by the buyer before shipping: final.
    Cancelled,
    /// The hold ran out before payment: final.
    Expired,
    ReturnRequested,
    /// Final.
    Returned,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Shipping,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Expired,
        OrderStatus::ReturnRequested,
        OrderStatus::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipping => "shipping",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
            OrderStatus::ReturnRequested => "return_requested",
            OrderStatus::Returned => "returned",
        }
    }

    /// Whether `self → next` is a transition of the lifecycle.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (PendingPayment, Paid | Cancelled | Expired)
                | (Paid, Shipping | Cancelled)
                | (Shipping, Delivered)
                | (Delivered, Completed | ReturnRequested)
                | (ReturnRequested, Returned)
        )
    }

    /// Whether an order in this status still holds its stock. Leaving this set releases it.
    pub fn holds_stock(self) -> bool {
        !matches!(
            self,
            OrderStatus::Cancelled | OrderStatus::Expired | OrderStatus::Returned
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown order status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
    }

    #[test]
    fn final_states_go_nowhere_and_stock_is_released_exactly_on_leaving_the_holding_states() {
        for from in [Completed, Cancelled, Expired, Returned] {
            assert!(
                OrderStatus::ALL.iter().all(|&to| !from.can_become(to)),
                "{from} is final"
            );
        }
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                if from.can_become(to) {
                    assert!(
                        from.holds_stock(),
                        "{from} → {to} starts from a released state"
                    );
                }
            }
        }
        assert!(!PendingPayment.can_become(Shipping));
        assert!(!Shipping.can_become(Cancelled));
        assert!(!Delivered.can_become(Returned));
    }
}
