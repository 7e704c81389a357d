//! Payments: one provider port, a sandbox and a Toss Payments adapter, every call guarded by a
//! timeout, retries and a circuit breaker, and every charge that cannot complete its order
//! refunded through the outbox.

mod breaker;
mod provider;
mod sandbox;
mod toss;

pub use breaker::{Breaker, BreakerSettings};
pub use provider::{Charge, ChargeRequest, Guarded, PaymentProvider, ProviderError};
use sandbox::Sandbox;
pub use toss::Toss;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::{OrderStatus, PaymentStatus};
use rushline_jobs::{Job, Registry, new_job};
use rushline_store::{
    DbError, NewJob, ORDER_STATUS_CHANGED, Order, OrderTransition, PAYMENTS_ONE_LIVE_PER_ORDER,
    Payment,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::claims::{Creates, request_id};
use crate::{ApiError, AppState};

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
    let sweeper = state.clone();
    registry.every(
        "sweep_stale_payments",
        std::time::Duration::from_secs(60),
        move |due| {
            let state = sweeper.clone();
            async move {
                sweep_stale(&state, due)
                    .await
                    .map(drop)
                    .map_err(|e| anyhow::anyhow!("sweeping stale payments failed: {e:?}"))
            }
        },
    );
}

async fn refund(state: &AppState, job: RefundPayment) -> anyhow::Result<()> {
    let payment = state.store.payment(job.payment_id).await?;
    if payment.status == PaymentStatus::Refunded {
        return Ok(());
    }
    let provider: &Guarded = state.payments.provider(&payment.provider).ok_or_else(|| {
        anyhow::anyhow!(
            "payment {} was made with {}, which is not configured",
            payment.id,
            payment.provider
        )
    })?;
    match provider
        .cancel(&payment.provider_ref, payment.amount, &job.reason)
        .await
    {
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

impl Payments {
    /// The sandbox always; Toss when configured. Each provider has a breaker of its own.
    pub fn new(
        settings: BreakerSettings,
        toss: Option<Toss>,
        clock: Arc<dyn rushline_domain::Clock>,
    ) -> Self {
        Payments {
            sandbox: Guarded::new(Arc::new(Sandbox), settings.clone(), clock.clone()),
            toss: toss.map(|toss| Guarded::new(Arc::new(toss), settings, clock)),
        }
    }
}

/// How a buyer pays: a card through the sandbox, or a payment Toss's checkout already
/// authorised, confirmed here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayMethod {
    Card { card_number: String },
    Toss { payment_key: String, amount: i64 },
}

/// Pays the buyer's order: re-checks the hold and the amount, records the payment, charges,
/// and marks the order paid in the same transaction that approves the payment. A charge that
/// cannot complete its order (the hold ran out meanwhile, the provider's answer was lost) is
/// refunded through the outbox. A retry with the same idempotency key answers where that
/// payment stands and charges nothing more.
pub async fn pay(
    state: &AppState,
    buyer: AuthUser,
    order_id: Uuid,
    key: &str,
    method: PayMethod,
) -> Result<(Order, Payment), ApiError> {
    let payment_id = request_id(buyer.id, Creates::Payment, key);
    match state.store.payment(payment_id).await {
        Ok(existing) => return replay(state, buyer, order_id, existing).await,
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let order = state.store.order(order_id).await?;
    if order.buyer_id != buyer.id {
        return Err(ApiError::not_found());
    }
    let now = state.clock.now();
    match order.status {
        OrderStatus::PendingPayment if order.hold_expires_at > now => {}
        OrderStatus::PendingPayment | OrderStatus::Expired => return Err(hold_expired()),
        OrderStatus::Paid
        | OrderStatus::Shipping
        | OrderStatus::Delivered
        | OrderStatus::Completed => {
            return Err(ApiError::conflict("already_paid", "the order is paid"));
        }
        other => {
            return Err(ApiError::conflict(
                "invalid_transition",
                format!("a {other} order cannot be paid"),
            ));
        }
    }
    let (provider, payment_ref, card_number) = match method {
        PayMethod::Card { card_number } => (
            &state.payments.sandbox,
            format!("sandbox_{}", payment_id.simple()),
            Some(card_number),
        ),
        PayMethod::Toss {
            payment_key,
            amount,
        } => {
            if amount != order.total {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "amount_mismatch",
                    format!("the order's total is {} won, not {amount}", order.total),
                ));
            }
            let toss = state.payments.toss.as_ref().ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "provider_not_configured",
                    "Toss Payments is not configured",
                )
            })?;
            (toss, payment_key, None)
        }
    };
    if provider.is_open() {
        return Err(unavailable());
    }
    let payment = Payment {
        id: payment_id,
        order_id,
        provider: provider.name().to_owned(),
        amount: order.total,
        status: PaymentStatus::Pending,
        provider_ref: payment_ref.clone(),
        failure_code: None,
        created_at: now,
        updated_at: now,
    };
    match state.store.begin_payment(&payment).await {
        Ok(()) => {}
        Err(e) if e.is_conflict_on(PAYMENTS_ONE_LIVE_PER_ORDER) => {
            return Err(ApiError::conflict(
                "payment_in_progress",
                "the order already has a payment",
            ));
        }
        Err(DbError::Conflict { .. }) => return Err(in_progress()),
        Err(e) => return Err(e.into()),
    }

    let charged = provider
        .confirm(&ChargeRequest {
            payment_ref,
            order_id,
            amount: order.total,
            card_number,
            idempotency_key: payment_id.to_string(),
        })
        .await;
    let now = state.clock.now();
    match charged {
        Ok(_) => {
            let mut change = OrderTransition::new(
                order_id,
                OrderStatus::PendingPayment,
                OrderStatus::Paid,
                now,
                "payment",
            );
            change.within_hold = true;
            match state.store.approve_payment(payment_id, &change).await {
                Ok(order) => Ok((order, state.store.payment(payment_id).await?)),
                Err(e) if e.is_conflict_on(ORDER_STATUS_CHANGED) => {
                    refund_later(
                        state,
                        payment_id,
                        "the order's hold ran out before the payment completed",
                    )
                    .await?;
                    Err(hold_expired())
                }
                // The database is down: the payment stays pending and the sweeper refunds it.
                Err(e) => Err(e.into()),
            }
        }
        Err(ProviderError::Declined { code, message }) => {
            state
                .store
                .settle_payment(payment_id, PaymentStatus::Declined, Some(&code), now)
                .await?;
            Err(declined(&code, &message))
        }
        Err(ProviderError::CircuitOpen) => {
            state
                .store
                .settle_payment(payment_id, PaymentStatus::Failed, Some("circuit_open"), now)
                .await?;
            Err(unavailable())
        }
        Err(e) => {
            // A timeout may hide a charge that went through: cancel to be sure.
            tracing::warn!(payment = %payment_id, error = %e, "payment provider failed; cancelling any charge");
            refund_later(
                state,
                payment_id,
                "the provider did not confirm the payment in time",
            )
            .await?;
            Err(unavailable())
        }
    }
}

/// Answers a retried payment request from the payment it created.
async fn replay(
    state: &AppState,
    buyer: AuthUser,
    order_id: Uuid,
    payment: Payment,
) -> Result<(Order, Payment), ApiError> {
    let order = state.store.order(payment.order_id).await?;
    if order.buyer_id != buyer.id || payment.order_id != order_id {
        return Err(ApiError::idempotency_mismatch());
    }
    match payment.status {
        PaymentStatus::Approved => Ok((order, payment)),
        PaymentStatus::Pending => Err(in_progress()),
        PaymentStatus::Declined => Err(declined(
            payment.failure_code.as_deref().unwrap_or_default(),
            "the card was declined",
        )),
        PaymentStatus::Failed => Err(unavailable()),
        PaymentStatus::Refunding | PaymentStatus::Refunded => Err(ApiError::conflict(
            "payment_refunded",
            "this payment could not complete its order and was refunded",
        )),
    }
}

async fn refund_later(state: &AppState, payment_id: Uuid, reason: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let job = refund_job(payment_id, reason, now);
    state.store.refund_later(payment_id, &job, now).await?;
    Ok(())
}

pub fn refund_job(payment_id: Uuid, reason: &str, at: DateTime<Utc>) -> NewJob {
    new_job(
        &RefundPayment {
            payment_id,
            reason: reason.to_owned(),
        },
        at,
    )
    .dedupe_key(format!("refund:{payment_id}"))
}

/// The refund jobs for the approved payments of an order that is being undone, to enqueue in
/// the transaction that undoes it.
pub async fn refunds_for(
    state: &AppState,
    order_id: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<Vec<NewJob>, ApiError> {
    Ok(state
        .store
        .payments_for_order(order_id)
        .await?
        .into_iter()
        .filter(|payment| payment.status == PaymentStatus::Approved)
        .map(|payment| refund_job(payment.id, reason, at))
        .collect())
}

/// Payments left `pending` by a request that died between the charge and its outcome are
/// refunded: any charge behind them goes back, and the buyer may pay again.
pub async fn sweep_stale(state: &AppState, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let stale = state.store.stale_payments(now - STALE_AFTER).await?;
    for payment_id in &stale {
        tracing::warn!(payment = %payment_id, "a payment was left pending; refunding any charge");
        refund_later(state, *payment_id, "the payment request did not complete").await?;
    }
    Ok(stale.len())
}

/// Longer than any payment request can take (timeouts × tries).
const STALE_AFTER: TimeDelta = TimeDelta::minutes(5);

fn hold_expired() -> ApiError {
    ApiError::conflict(
        "hold_expired",
        "the order's hold has run out; its stock went back on sale",
    )
}

fn in_progress() -> ApiError {
    ApiError::conflict(
        "request_in_progress",
        "a payment with this Idempotency-Key is still being processed",
    )
}

fn unavailable() -> ApiError {
    ApiError::unavailable(
        "payment_unavailable",
        "the payment provider is unavailable; retry later",
    )
    .with_retry_after(30)
}

fn declined(code: &str, message: &str) -> ApiError {
    let stable = match code {
        "card_declined" => "card_declined",
        "insufficient_funds" => "insufficient_funds",
        _ => "payment_declined",
    };
    ApiError::new(StatusCode::PAYMENT_REQUIRED, stable, message.to_owned())
        .with_details(serde_json::json!({ "provider_code": code }))
}
