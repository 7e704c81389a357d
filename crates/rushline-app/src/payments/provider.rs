use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use rushline_domain::{Clock, Won};
use uuid::Uuid;

use crate::breaker::{Breaker, BreakerSettings};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The provider's reference for the charge: Toss's `paymentKey`, or ours for the sandbox.
    pub payment_ref: String,
    pub order_id: Uuid,
    pub amount: Won,
    /// For the sandbox, which decides by the card number.
    pub card_number: Option<String>,
    /// Sent to providers that accept one, so that a retried call charges once.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub payment_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the request (a 4xx): the card, the amount, the state of the
    /// payment. The provider is healthy; retrying would be refused again.
    #[error("declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// A cancel found nothing to cancel: never charged, or already cancelled.
    #[error("nothing to cancel")]
    NothingToCancel,
    #[error("the provider did not answer in time")]
    Timeout,
    /// A 5xx, or the provider could not be reached; or the outcome is unknown because an
    /// earlier try of the same call did not answer.
    #[error("the provider failed: {0}")]
    Unavailable(String),
    /// The provider asked us to slow down (a 429): it did nothing, and is healthy.
    #[error("the provider is rate limiting us")]
    RateLimited,
    /// The circuit breaker is open: the call was not made.
    #[error("the provider is failing; calls are paused")]
    CircuitOpen,
}

impl ProviderError {
    /// Timeouts and 5xx answers: worth a retry, and counted by the breaker. A 4xx never is.
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Timeout | ProviderError::Unavailable(_))
    }
}

/// A payment provider's API.
#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn confirm(&self, request: &ChargeRequest) -> Result<Charge, ProviderError>;
    async fn cancel(
        &self,
        payment_ref: &str,
        amount: Won,
        reason: &str,
    ) -> Result<(), ProviderError>;
}

/// How payment calls are guarded.
#[derive(Debug, Clone)]
pub struct GuardSettings {
    /// Each call's deadline.
    pub timeout: Duration,
    /// Further tries after a timeout or a 5xx.
    pub retries: usize,
    /// The first retry's delay; each next one doubles.
    pub backoff: Duration,
    pub breaker: BreakerSettings,
}

/// A provider behind a timeout per call, retries with backoff after timeouts and 5xx answers,
/// and a circuit breaker that stops calling a provider that keeps failing.
pub struct Guarded {
    provider: Arc<dyn PaymentProvider>,
    breaker: Breaker,
    timeout: Duration,
    retries: usize,
    backoff: Duration,
}

impl Guarded {
    pub fn new(
        provider: Arc<dyn PaymentProvider>,
        settings: GuardSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            breaker: Breaker::new(provider.name(), settings.breaker, clock),
            provider,
            timeout: settings.timeout,
            retries: settings.retries,
            backoff: settings.backoff,
        }
    }

    pub fn name(&self) -> &'static str {
        self.provider.name()
    }

    /// Whether calls would be refused right now without trying.
    pub fn is_open(&self) -> bool {
        self.breaker.is_open()
    }

    pub async fn confirm(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        self.call(|| self.provider.confirm(request)).await
    }

    pub async fn cancel(
        &self,
        payment_ref: &str,
        amount: Won,
        reason: &str,
    ) -> Result<(), ProviderError> {
        self.call(|| self.provider.cancel(payment_ref, amount, reason))
            .await
    }

    async fn call<T, F, Fut>(&self, operation: F) -> Result<T, ProviderError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        // Whether a try timed out or failed: it may have gone through all the same.
        let unanswered = AtomicBool::new(false);
        let attempt = || async {
            let Some(permit) = self.breaker.allow() else {
                return Err(ProviderError::CircuitOpen);
            };
            let outcome = tokio::time::timeout(self.timeout, operation())
                .await
                .unwrap_or(Err(ProviderError::Timeout));
            let failed = matches!(&outcome, Err(e) if e.is_transient());
            permit.record(failed);
            if failed {
                unanswered.store(true, Ordering::Relaxed);
            }
            outcome
        };
        let outcome = attempt
            .retry(retry_delays(self.backoff, self.retries).with_jitter())
            .when(ProviderError::is_transient)
            .await;
        match outcome {
            // An earlier try may have gone through, so a later refusal — by the breaker, which
            // opened between tries, or by the provider, which may be refusing a second charge —
            // leaves the outcome unknown: not "not called", nor "declined".
            Err(
                e @ (ProviderError::CircuitOpen
                | ProviderError::Declined { .. }
                | ProviderError::RateLimited),
            ) if unanswered.load(Ordering::Relaxed) => Err(ProviderError::Unavailable(format!(
                "{e}, after a try that did not answer"
            ))),
            other => other,
        }
    }
}

/// The delays between tries: `backoff`, doubling, before jitter (which adds up to as much again).
pub(super) fn retry_delays(backoff: Duration, retries: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(backoff)
        .with_max_times(retries)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::TimeDelta;
    use rushline_domain::ManualClock;

    use super::*;

    /// Answers every call with `answer`, or never when it is `None`.
    struct Scripted {
        answer: Mutex<Option<Result<Charge, ProviderError>>>,
    }

    #[async_trait]
    impl PaymentProvider for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }

        async fn confirm(&self, _request: &ChargeRequest) -> Result<Charge, ProviderError> {
            let answer = self.answer.lock().unwrap().clone();
            match answer {
                Some(answer) => answer,
                None => std::future::pending().await,
            }
        }

        async fn cancel(&self, _: &str, _: Won, _: &str) -> Result<(), ProviderError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_trial_whose_caller_gives_up_opens_the_breaker_again() {
        let clock = ManualClock::starting_now();
        let down = Err(ProviderError::Unavailable("500".to_owned()));
        let provider = Arc::new(Scripted {
            answer: Mutex::new(Some(down.clone())),
        });
        let settings = GuardSettings {
            timeout: Duration::from_secs(24 * 3600),
            retries: 0,
            backoff: Duration::from_millis(1),
            breaker: BreakerSettings {
                window: 2,
                failure_ratio: 0.5,
                open_for: TimeDelta::seconds(30),
            },
        };
        let guarded = Guarded::new(provider.clone(), settings, Arc::new(clock.clone()));
        let request = ChargeRequest {
            payment_ref: "ref".to_owned(),
            order_id: Uuid::nil(),
            amount: Won::new(1000),
            card_number: None,
            idempotency_key: "key".to_owned(),
        };
        for _ in 0..2 {
            assert_eq!(guarded.confirm(&request).await, down);
        }
        assert!(guarded.is_open());

        // The trial call hangs and its caller goes away (a buyer who disconnected).
        clock.advance(TimeDelta::seconds(30));
        *provider.answer.lock().unwrap() = None;
        let gave_up = tokio::time::timeout(Duration::from_millis(10), guarded.confirm(&request));
        assert!(gave_up.await.is_err());
        assert!(guarded.is_open(), "the unfinished trial failed");

        clock.advance(TimeDelta::seconds(30));
        let charge = Ok(Charge {
            payment_ref: "ref".to_owned(),
        });
        *provider.answer.lock().unwrap() = Some(charge.clone());
        assert_eq!(guarded.confirm(&request).await, charge, "the next trial");
        assert_eq!(guarded.confirm(&request).await, charge, "closed again");
    }
}
