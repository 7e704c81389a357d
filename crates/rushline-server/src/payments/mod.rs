//! Payments: one provider port, a sandbox and a Toss Payments adapter, every call guarded by a
//! timeout, retries and a circuit breaker, and every charge that cannot complete its order
//! refunded through the outbox.

mod breaker;
mod provider;
mod sandbox;
mod toss;

pub use breaker::{Breaker, BreakerSettings};
pub use provider::{Charge, ChargeRequest, Guarded, PaymentProvider, ProviderError};
pub use sandbox::Sandbox;
pub use toss::Toss;

use std::sync::Arc;

use rushline_jobs::{Job, Registry};
use rushline_store::PaymentStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;

/// The providers this node can charge with; Toss only when its secret key is configured.
pub struct Payments {
    pub sandbox: Guarded,
    pub toss: Option<Guarded>,
}

impl Payments {
    /// The provider a payment was made with.
    pub fn provider(&self, name: &str) -> Option<&Guarded> {
        match name {
            "sandbox" => Some(&self.sandbox),
            "toss" => self.toss.as_ref(),
            _ => None,
        }
    }
}

/// Cancels (refunds) a charge at its provider, until the provider confirms. Enqueued in the
/// transaction that decides a charge must go back: a cancelled paid order, a completed return,
/// a charge whose order could not be completed.
#[derive(Debug, Serialize, Deserialize)]
pub struct RefundPayment {
    pub payment_id: Uuid,
    pub reason: String,
}

impl Job for RefundPayment {
    const KIND: &'static str = "refund_payment";
    /// With backoff capped at ten minutes, about eight hours of tries: long enough to outlast a
    /// provider outage, after which an operator finds the job dead.
    const MAX_ATTEMPTS: i32 = 50;
}

pub fn register_jobs(registry: &mut Registry, state: &AppState) {
    let refunds = state.clone();
    registry.handle(move |job: RefundPayment| {
        let state = refunds.clone();
        async move { refund(&state, job).await }
    });
}

async fn refund(state: &AppState, job: RefundPayment) -> anyhow::Result<()> {
    let payment = state.store.payment(job.payment_id).await?;
    if payment.status == PaymentStatus::Refunded {
        return Ok(());
    }
    let provider: &Guarded = state
        .payments
        .provider(&payment.provider)
        .ok_or_else(|| anyhow::anyhow!("payment {} was made with {}, which is not configured", payment.id, payment.provider))?;
    match provider.cancel(&payment.provider_ref, payment.amount, &job.reason).await {
        // Nothing to refund is as good as refunded: the charge never happened or is already back.
        Ok(()) | Err(ProviderError::NothingToCancel) => {}
        Err(e) => anyhow::bail!("refund of payment {} failed: {e}", payment.id),
    }
    state
        .store
        .settle_payment(payment.id, PaymentStatus::Refunded, None, state.clock.now())
        .await?;
    tracing::info!(payment = %payment.id, amount = payment.amount, "refunded");
    Ok(())
}

/// Shared so that tests and the binary build providers the same way.
pub fn build(settings: BreakerSettings, sandbox: Sandbox, toss: Option<Toss>, clock: Arc<dyn rushline_domain::Clock>) -> Payments {
    Payments {
        sandbox: Guarded::new(Arc::new(sandbox), settings.clone(), clock.clone()),
        toss: toss.map(|toss| Guarded::new(Arc::new(toss), settings, clock)),
    }
}
