use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use rushline_domain::Clock;
use uuid::Uuid;

use super::breaker::{Breaker, BreakerSettings};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The provider's reference for the charge: Toss's `paymentKey`, or ours for the sandbox.
    pub payment_ref: String,
    pub order_id: Uuid,
    pub amount: i64,
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
    /// A 5xx, or the provider could not be reached.
    #[error("the provider failed: {0}")]
    Unavailable(String),
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
        amount: i64,
        reason: &str,
    ) -> Result<(), ProviderError>;
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
        settings: BreakerSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            breaker: Breaker::new(provider.name(), settings.clone(), clock),
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
        amount: i64,
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
        let attempted = AtomicBool::new(false);
        let attempt = || async {
            if !self.breaker.allow() {
                return Err(ProviderError::CircuitOpen);
            }
            attempted.store(true, Ordering::Relaxed);
            let outcome = tokio::time::timeout(self.timeout, operation())
                .await
                .unwrap_or(Err(ProviderError::Timeout));
            self.breaker
                .record(matches!(&outcome, Err(e) if e.is_transient()));
            outcome
        };
        let outcome = attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(self.backoff)
                    .with_max_times(self.retries)
                    .with_jitter(),
            )
            .when(ProviderError::is_transient)
            .await;
        match outcome {
            // The breaker opened between tries: an earlier try may have gone through, so the
            // outcome is unknown, not "not called".
            Err(ProviderError::CircuitOpen) if attempted.load(Ordering::Relaxed) => Err(
                ProviderError::Unavailable("the breaker opened between tries".to_owned()),
            ),
            other => other,
        }
    }
}
