//! The conformance suite every rate limiter runs: same inputs, same answers, in process or in
//! Redis. A test harness runs every case in [`CASES`] once per backend; the cases are private,
//! so one left out of the table is dead code, which this module denies.

#![deny(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed unwrap is a failed case"
)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Admission, Limit, RateLimiter};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T09:00:00.123456Z")
        .unwrap()
        .with_timezone(&Utc)
}

const THREE_PER_MINUTE: Limit = Limit {
    max: 3,
    per: TimeDelta::seconds(60),
};

async fn refused_for(limiter: &Arc<dyn RateLimiter>, key: &str, at: DateTime<Utc>) -> TimeDelta {
    match limiter.acquire(key, THREE_PER_MINUTE, at).await.unwrap() {
        Admission::Refused { retry_after } => retry_after,
        Admission::Allowed(_) => panic!("{key} was allowed at {at}"),
    }
}

async fn allowed(limiter: &Arc<dyn RateLimiter>, key: &str, at: DateTime<Utc>) -> crate::Ticket {
    match limiter.acquire(key, THREE_PER_MINUTE, at).await.unwrap() {
        Admission::Allowed(ticket) => ticket,
        Admission::Refused { retry_after } => {
            panic!("{key} was refused at {at}, retry after {retry_after}")
        }
    }
}

async fn ratelimit_allows_max_then_refuses_until_the_window_has_room(
    limiter: Arc<dyn RateLimiter>,
) {
    for _ in 0..3 {
        allowed(&limiter, "login:a", t0()).await;
    }
    assert_eq!(
        refused_for(&limiter, "login:a", t0()).await,
        TimeDelta::seconds(60)
    );
    let later = t0() + TimeDelta::milliseconds(30_250);
    assert_eq!(
        refused_for(&limiter, "login:a", later).await,
        TimeDelta::milliseconds(29_750),
        "a refusal is not counted, and the wait shrinks with time"
    );
    let one_us_early = t0() + TimeDelta::seconds(60) - TimeDelta::microseconds(1);
    assert_eq!(
        refused_for(&limiter, "login:a", one_us_early).await,
        TimeDelta::microseconds(1)
    );
    allowed(&limiter, "login:a", t0() + TimeDelta::seconds(60)).await;
}

async fn ratelimit_window_slides(limiter: Arc<dyn RateLimiter>) {
    allowed(&limiter, "k", t0()).await;
    allowed(&limiter, "k", t0() + TimeDelta::seconds(20)).await;
    allowed(&limiter, "k", t0() + TimeDelta::seconds(40)).await;
    assert_eq!(
        refused_for(&limiter, "k", t0() + TimeDelta::seconds(50)).await,
        TimeDelta::seconds(10)
    );
    // The first event has left; the second leaves at 80 s.
    allowed(&limiter, "k", t0() + TimeDelta::seconds(60)).await;
    assert_eq!(
        refused_for(&limiter, "k", t0() + TimeDelta::seconds(61)).await,
        TimeDelta::seconds(19)
    );
    // Long after, the window is empty again.
    for _ in 0..3 {
        allowed(&limiter, "k", t0() + TimeDelta::hours(1)).await;
    }
}

async fn ratelimit_release_takes_an_event_back(limiter: Arc<dyn RateLimiter>) {
    let first = allowed(&limiter, "k", t0()).await;
    let second = allowed(&limiter, "k", t0()).await;
    let third = allowed(&limiter, "k", t0() + TimeDelta::seconds(1)).await;
    refused_for(&limiter, "k", t0() + TimeDelta::seconds(2)).await;

    limiter.release("k", third).await.unwrap();
    limiter.release("k", third).await.unwrap();
    limiter.release("other", first).await.unwrap();
    allowed(&limiter, "k", t0() + TimeDelta::seconds(2)).await;
    refused_for(&limiter, "k", t0() + TimeDelta::seconds(2)).await;

    limiter.release("k", first).await.unwrap();
    allowed(&limiter, "k", t0() + TimeDelta::seconds(3)).await;
    // Releasing a key that holds nothing is no error.
    limiter.release("never-used", first).await.unwrap();

    // Releasing an event that already left the window changes nothing: the two events of 2 s
    // and 3 s still count, so one more fits.
    let later = t0() + TimeDelta::seconds(61);
    limiter.release("k", second).await.unwrap();
    allowed(&limiter, "k", later).await;
    assert_eq!(
        refused_for(&limiter, "k", later).await,
        TimeDelta::seconds(1)
    );
}

async fn ratelimit_keys_are_independent(limiter: Arc<dyn RateLimiter>) {
    for _ in 0..3 {
        allowed(&limiter, "login:account:a@example.com", t0()).await;
    }
    refused_for(&limiter, "login:account:a@example.com", t0()).await;
    allowed(&limiter, "login:account:b@example.com", t0()).await;
    allowed(&limiter, "login:ip:203.0.113.9", t0()).await;
    let strict = Limit {
        max: 1,
        per: TimeDelta::minutes(15),
    };
    assert!(matches!(
        limiter.acquire("other", strict, t0()).await.unwrap(),
        Admission::Allowed(_)
    ));
    assert_eq!(
        limiter.acquire("other", strict, t0()).await.unwrap(),
        Admission::Refused {
            retry_after: TimeDelta::minutes(15)
        }
    );
}

async fn ratelimit_concurrent_acquisitions_never_exceed_max(limiter: Arc<dyn RateLimiter>) {
    let limit = Limit {
        max: 20,
        per: TimeDelta::minutes(15),
    };
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire("hot", limit, t0()).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), Admission::Allowed(_)) {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 20);
}

/// One case of the suite, for a test harness to run once per backend.
pub type Case = fn(Arc<dyn RateLimiter>) -> Pin<Box<dyn Future<Output = ()>>>;

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        &[$((stringify!($case), |limiter| Box::pin($case(limiter)))),*]
    };
}

/// Every case of the suite, by name.
pub const CASES: &[(&str, Case)] = cases![
    ratelimit_allows_max_then_refuses_until_the_window_has_room,
    ratelimit_window_slides,
    ratelimit_release_takes_an_event_back,
    ratelimit_keys_are_independent,
    ratelimit_concurrent_acquisitions_never_exceed_max,
];
