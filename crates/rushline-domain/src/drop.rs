//! Drops: a limited allocation of a product sold in a time window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a buyer sees. `sold_out` is not stored: it is `open` with nothing left in the gate, and
/// turns back into `open` when a hold is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropStatus {
    Scheduled,
    Open,
    SoldOut,
    Closed,
}

/// Where `now` falls in the window `[opens_at, closes_at)`.
pub fn window_status(
    now: DateTime<Utc>,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> DropStatus {
    if now < opens_at {
        DropStatus::Scheduled
    } else if now >= closes_at {
        DropStatus::Closed
    } else {
        DropStatus::Open
    }
}

impl DropStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DropStatus::Scheduled => "scheduled",
            DropStatus::Open => "open",
            DropStatus::SoldOut => "sold_out",
            DropStatus::Closed => "closed",
        }
    }

    /// The status shown to buyers: the window's, with `open` becoming `sold_out` when nothing
    /// remains.
    pub fn shown(
        now: DateTime<Utc>,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        remaining: u64,
    ) -> Self {
        match window_status(now, opens_at, closes_at) {
            DropStatus::Open if remaining == 0 => DropStatus::SoldOut,
            status => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn the_window_is_closed_open() {
        let opens = Utc::now();
        let closes = opens + Duration::hours(1);
        let micro = Duration::microseconds(1);
        assert_eq!(
            window_status(opens - micro, opens, closes),
            DropStatus::Scheduled
        );
        assert_eq!(window_status(opens, opens, closes), DropStatus::Open);
        assert_eq!(
            window_status(closes - micro, opens, closes),
            DropStatus::Open
        );
        assert_eq!(window_status(closes, opens, closes), DropStatus::Closed);
        assert_eq!(
            DropStatus::shown(opens, opens, closes, 0),
            DropStatus::SoldOut
        );
        assert_eq!(
            DropStatus::shown(closes, opens, closes, 0),
            DropStatus::Closed
        );
    }
}
