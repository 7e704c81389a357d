//! One buyer's part in the sale: (queue for a pass,) buy one unit at a time until the limit, a
//! refusal for the limit or for sold-out, or the end of the run; then, with a duration, keep
//! buying to load the sold-out path.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::api::{Answer, Api, Failure, backoff};
use crate::stats::{Ending, Recorder};

/// How often a buyer retries a request that got no answer or a 5xx before giving up.
const MAX_FAILURES: u32 = 10;

/// The sale every buyer takes part in.
pub(crate) struct Sale {
    pub api: Api,
    pub drop: Uuid,
    pub per_user_limit: u32,
    pub waiting_room: bool,
    /// When firing stops (with `--duration`); without one, buyers go on until they are done.
    pub deadline: Option<Instant>,
    /// One per connection: a request is sent only while it holds one.
    pub permits: Semaphore,
    pub recorder: Recorder,
    /// Makes this run's idempotency keys unique.
    pub run: String,
}

/// How a buyer's attempts to buy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// Bought up to the per-user limit.
    Won,
    SoldOut,
    LimitReached,
    Closed,
    /// Refused for another reason, or failed too often: the reason.
    GaveUp(String),
    /// Still trying when the duration ran out.
    Unfinished,
}

pub(crate) struct Buyer {
    pub index: usize,
    pub token: String,
    /// Orders of the 201s this buyer got (one unit each), in order.
    pub orders: Vec<Uuid>,
    pass: Option<String>,
    /// Numbers the idempotency key of the next unit.
    unit: u64,
}

/// A purchase or queue answer, reduced to what a buyer acts on.
enum Reply {
    Answered {
        status: u16,
        code: Option<String>,
        answer: Answer,
    },
    /// No answer: `timeout`, `connect` or `transport`.
    Failed { kind: &'static str },
}

#[derive(Debug, Deserialize)]
struct PurchaseResponse {
    order_id: Uuid,
}

#[derive(Debug, Deserialize)]
struct QueueTicket {
    state: String,
    estimated_wait_seconds: Option<u64>,
    pass: Option<String>,
}

impl Buyer {
    pub fn new(index: usize, token: String) -> Self {
        Self {
            index,
            token,
            orders: Vec::new(),
            pass: None,
            unit: 0,
        }
    }
}

impl Sale {
    /// Takes a place in the waiting room (before the opening, so in the pre-queue), when the
    /// drop has one.
    pub async fn prepare(&self, buyer: &mut Buyer) -> Result<(), End> {
        if self.waiting_room {
            self.join(buyer).await?;
        }
        Ok(())
    }

    /// Buys until done; the buyer's orders are in `buyer.orders`.
    pub async fn buy(&self, buyer: &mut Buyer) -> End {
        let mut failures = 0;
        loop {
            if self.past_deadline() {
                return End::Unfinished;
            }
            if self.waiting_room
                && buyer.pass.is_none()
                && let Err(end) = self.admission(buyer).await
            {
                return end;
            }
            let key = format!("{}-{}-{}", self.run, buyer.index, buyer.unit);
            match self.purchase(buyer, &key).await {
                Reply::Answered {
                    status: 201,
                    answer,
                    ..
                } => {
                    let Ok(created) = answer.json::<PurchaseResponse>("purchase") else {
                        return End::GaveUp("201 with an unreadable body".to_owned());
                    };
                    buyer.orders.push(created.order_id);
                    buyer.unit += 1;
                    buyer.pass = None;
                    failures = 0;
                    if buyer.orders.len() >= self.per_user_limit as usize {
                        return End::Won;
                    }
                }
                Reply::Answered { status, code, .. } => {
                    match (status, code.as_deref().unwrap_or_default()) {
                        (409, "sold_out") => return End::SoldOut,
                        (409, "limit_reached") => return End::LimitReached,
                        (409, "closed") => return End::Closed,
                        // This machine's clock is ahead of the server's: try again in a moment.
                        (409, "not_open") => tokio::time::sleep(Duration::from_millis(20)).await,
                        (409, "request_in_progress") => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        (403, "queue_pass_invalid") if self.waiting_room => {
                            buyer.pass = None;
                            if let Err(end) = self.join(buyer).await {
                                return end;
                            }
                        }
                        (429 | 500..=599, _) => {
                            failures += 1;
                            if failures > MAX_FAILURES {
                                return End::GaveUp(format!(
                                    "{status} {}",
                                    code.unwrap_or_default()
                                ));
                            }
                            tokio::time::sleep(backoff(failures)).await;
                        }
                        (status, code) => return End::GaveUp(format!("{status} {code}")),
                    }
                }
                Reply::Failed { kind } => {
                    failures += 1;
                    if failures > MAX_FAILURES {
                        return End::GaveUp(format!("no answer ({kind})"));
                    }
                    tokio::time::sleep(backoff(failures)).await;
                }
            }
        }
    }

    /// Until the deadline, buys again with new keys: every answer now is a refusal (sold out,
    /// limit reached), unless a hold was released. Behind a waiting room only buyers who still
    /// hold a pass (those refused, whose pass stays valid) can. A request without an answer or
    /// with a 5xx is sent again with the same key, as in [`Sale::buy`]: it may have placed an
    /// order, and the retry names that order instead of buying another.
    pub async fn keep_buying(&self, buyer: &mut Buyer) {
        let Some(deadline) = self.deadline else {
            return;
        };
        let mut retrying = false;
        while Instant::now() < deadline {
            if self.waiting_room && buyer.pass.is_none() {
                return;
            }
            if !retrying {
                buyer.unit += 1;
            }
            let key = format!("{}-{}-{}", self.run, buyer.index, buyer.unit);
            retrying = false;
            match self.purchase(buyer, &key).await {
                Reply::Answered {
                    status: 201,
                    answer,
                    ..
                } => {
                    if let Ok(created) = answer.json::<PurchaseResponse>("purchase") {
                        buyer.orders.push(created.order_id);
                    }
                    buyer.pass = None;
                }
                Reply::Answered {
                    status: 403, code, ..
                } if code.as_deref() == Some("queue_pass_invalid") => buyer.pass = None,
                Reply::Answered {
                    status: 500..=599, ..
                }
                | Reply::Failed { .. } => {
                    retrying = true;
                    tokio::time::sleep(backoff(1)).await;
                }
                Reply::Answered { .. } => {}
            }
        }
    }

    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    async fn purchase(&self, buyer: &Buyer, key: &str) -> Reply {
        let (result, latency) = {
            let _permit = self.permits.acquire().await.expect("never closed");
            self.api
                .purchase(&buyer.token, self.drop, key, buyer.pass.as_deref())
                .await
        };
        let reply = reply(result);
        self.recorder.purchase(&ending(&reply), latency);
        reply
    }

    /// Joins the queue (again); a buyer admitted at once gets the pass.
    async fn join(&self, buyer: &mut Buyer) -> Result<(), End> {
        let mut failures = 0;
        loop {
            if self.past_deadline() {
                return Err(End::Unfinished);
            }
            let (result, _) = {
                let _permit = self.permits.acquire().await.expect("never closed");
                self.api.join_queue(&buyer.token, self.drop).await
            };
            let reply = reply(result);
            self.recorder.queue(&ending(&reply));
            match reply {
                Reply::Answered {
                    status: 201,
                    answer,
                    ..
                } => {
                    if let Ok(ticket) = answer.json::<QueueTicket>("joining the queue") {
                        buyer.pass = ticket.pass;
                    }
                    return Ok(());
                }
                Reply::Answered {
                    status: 409, code, ..
                } if code.as_deref() == Some("closed") => return Err(End::Closed),
                Reply::Answered {
                    status: 409 | 429 | 500..=599,
                    ..
                }
                | Reply::Failed { .. } => {
                    failures += 1;
                    if failures > MAX_FAILURES {
                        return Err(End::GaveUp("could not join the queue".to_owned()));
                    }
                    tokio::time::sleep(backoff(failures)).await;
                }
                Reply::Answered { status, code, .. } => {
                    return Err(End::GaveUp(format!(
                        "joining the queue: {status} {}",
                        code.unwrap_or_default()
                    )));
                }
            }
        }
    }

    /// Polls the buyer's place until admitted (the pass is then in `buyer.pass`).
    async fn admission(&self, buyer: &mut Buyer) -> Result<(), End> {
        let mut failures = 0;
        loop {
            if self.past_deadline() {
                return Err(End::Unfinished);
            }
            let (result, _) = {
                let _permit = self.permits.acquire().await.expect("never closed");
                self.api.queue_me(&buyer.token, self.drop).await
            };
            let reply = reply(result);
            self.recorder.queue(&ending(&reply));
            match reply {
                Reply::Answered {
                    status: 200,
                    answer,
                    ..
                } => {
                    let Ok(ticket) = answer.json::<QueueTicket>("polling the queue") else {
                        return Err(End::GaveUp("unreadable queue ticket".to_owned()));
                    };
                    if ticket.state == "admitted"
                        && let Some(pass) = ticket.pass
                    {
                        buyer.pass = Some(pass);
                        return Ok(());
                    }
                    tokio::time::sleep(poll_interval(ticket.estimated_wait_seconds)).await;
                }
                // The place was lost (or its pass used): queue again, at the back.
                Reply::Answered {
                    status: 404 | 410, ..
                } => self.join(buyer).await?,
                Reply::Answered {
                    status: 409, code, ..
                } if code.as_deref() == Some("closed") => return Err(End::Closed),
                Reply::Answered {
                    status: 429 | 500..=599,
                    ..
                }
                | Reply::Failed { .. } => {
                    failures += 1;
                    if failures > MAX_FAILURES {
                        return Err(End::GaveUp("could not poll the queue".to_owned()));
                    }
                    tokio::time::sleep(backoff(failures)).await;
                }
                Reply::Answered { status, code, .. } => {
                    return Err(End::GaveUp(format!(
                        "polling the queue: {status} {}",
                        code.unwrap_or_default()
                    )));
                }
            }
        }
    }
}

fn reply(result: Result<Answer, Failure>) -> Reply {
    match result {
        Ok(answer) => Reply::Answered {
            status: answer.status.as_u16(),
            code: (!answer.status.is_success())
                .then(|| answer.error_code())
                .flatten(),
            answer,
        },
        Err(failure) => Reply::Failed { kind: failure.kind },
    }
}

fn ending(reply: &Reply) -> Ending<'_> {
    match reply {
        Reply::Answered { status, code, .. } => Ending::Answered {
            status: *status,
            code: code.as_deref(),
        },
        Reply::Failed { kind } => Ending::Failed { kind },
    }
}

/// Half the estimated wait, between a quarter of a second and five seconds: often enough to be
/// admitted promptly and to keep the place (two minutes without a poll lose it), rarely enough
/// that thousands of waiting buyers do not crowd out the purchases.
fn poll_interval(estimated_wait_seconds: Option<u64>) -> Duration {
    let half = estimated_wait_seconds.map_or(500, |s| s.saturating_mul(500));
    Duration::from_millis(half.clamp(250, 5_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_follow_half_the_estimated_wait_within_bounds() {
        assert_eq!(poll_interval(None), Duration::from_millis(500));
        assert_eq!(poll_interval(Some(0)), Duration::from_millis(250));
        assert_eq!(poll_interval(Some(4)), Duration::from_secs(2));
        assert_eq!(poll_interval(Some(3_600)), Duration::from_secs(5));
    }
}
