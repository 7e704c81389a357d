//! Payments: one provider port, a sandbox and a Toss Payments adapter, every call guarded by a
//! timeout, retries and a circuit breaker, and every charge that cannot complete its order
//! refunded through the outbox.

mod provider;
mod sandbox;
mod toss;

pub use provider::{Charge, ChargeRequest, GuardSettings, Guarded, PaymentProvider, ProviderError};
use sandbox::Sandbox;
pub use toss::Toss;

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use rushline_domain::notification::Event;
use rushline_domain::payment::is_payment_key;
use rushline_domain::{FieldErrors, OrderStatus, PaymentStatus, Won};
use rushline_jobs::{Job, Registry, new_job};
use rushline_store::{
    Audience, DbError, NewJob, ORDER_STATUS_CHANGED, Order, OrderTransition,
    PAYMENT_STATUS_CHANGED, PAYMENTS_ONE_LIVE_PER_ORDER, Payment,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::claims::{Creates, request_id};
use crate::notifications::notice;
use crate::{App, AppError, ErrorCode};

/// The provider this node charges with: Toss Payments when its secret key is configured, else
/// the sandbox. Never both: a deployment that takes real payments must not accept test cards,
/// which the sandbox approves for free.
pub enum Payments {
    Sandbox(Guarded),
    Toss(Guarded),
}

impl Payments {
    /// Toss when given, else the sandbox, behind a breaker of its own.
    pub fn new(
        settings: GuardSettings,
        toss: Option<Toss>,
        clock: Arc<dyn rushline_domain::Clock>,
    ) -> Self {
        match toss {
            Some(toss) => Payments::Toss(Guarded::new(Arc::new(toss), settings, clock)),
            None => Payments::Sandbox(Guarded::new(Arc::new(Sandbox), settings, clock)),
        }
    }

    /// The provider this node takes payments with: `sandbox` or `toss`.
    pub fn name(&self) -> &'static str {
        let (Payments::Sandbox(provider) | Payments::Toss(provider)) = self;
        provider.name()
    }

    /// The provider a payment was made with, if this node has it.
    pub fn provider(&self, name: &str) -> Option<&Guarded> {
        let (Payments::Sandbox(provider) | Payments::Toss(provider)) = self;
        (provider.name() == name).then_some(provider)
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

pub(crate) fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let refunds = app.clone();
    registry.handle(move |job: RefundPayment| {
        let app = refunds.clone();
        async move { refund(&app, job).await }
    });
    let sweeper = app.clone();
    registry.every(
        "sweep_stale_payments",
        Duration::from_secs(60),
        move |due| {
            let app = sweeper.clone();
            async move {
                sweep_stale(&app, due)
                    .await
                    .map(drop)
                    .map_err(|e| anyhow::anyhow!("sweeping stale payments failed: {e:?}"))
            }
        },
    );
}

async fn refund(app: &App, job: RefundPayment) -> anyhow::Result<()> {
    let payment = app.store.payment(job.payment_id).await?;
    if payment.status == PaymentStatus::Refunded {
        return Ok(());
    }
    let provider: &Guarded = app.payments.provider(&payment.provider).ok_or_else(|| {
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
    let now = app.clock.now();
    let order = app.store.order(payment.order_id).await?;
    let told = notice(
        Event::RefundCompleted,
        Audience::User { id: order.buyer_id },
        payment.id,
        [
            ("order", order.id.to_string()),
            ("amount", payment.amount.get().to_string()),
        ],
        now,
    );
    // From where it stood when read: a refund running twice settles it once.
    app.store
        .settle_payment(
            payment.id,
            payment.status,
            PaymentStatus::Refunded,
            None,
            now,
            &[told],
        )
        .await?;
    tracing::info!(payment = %payment.id, amount = payment.amount.get(), "refunded");
    Ok(())
}

/// How a buyer pays: a test card through the sandbox, or a payment Toss's checkout already
/// authorised, confirmed here. Each only where its provider is the node's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayMethod {
    Card { card_number: String },
    Toss { payment_key: String, amount: Won },
}

/// Pays the buyer's order: re-checks the hold and the amount, records the payment, charges,
/// and marks the order paid in the same transaction that approves the payment. A charge that
/// cannot complete its order (the hold ran out meanwhile, the provider's answer was lost) is
/// refunded through the outbox. A retry with the same idempotency key answers where that
/// payment stands and charges nothing more.
pub async fn pay(
    app: &App,
    buyer: Uuid,
    order_id: Uuid,
    key: &str,
    method: PayMethod,
) -> Result<(Order, Payment), AppError> {
    if let PayMethod::Toss { payment_key, .. } = &method
        && !is_payment_key(payment_key)
    {
        let mut errors = FieldErrors::new();
        errors.add("payment_key", "must be 1–200 ASCII letters, digits, - or _");
        return Err(errors.into());
    }
    let payment_id = request_id(buyer, Creates::Payment, key);
    match app.store.payment(payment_id).await {
        Ok(existing) => return replay(app, buyer, order_id, existing).await,
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let order = app.store.order(order_id).await?;
    if order.buyer_id != buyer {
        return Err(AppError::not_found());
    }
    let now = app.clock.now();
    match order.status {
        OrderStatus::PendingPayment if order.hold_expires_at > now => {}
        OrderStatus::PendingPayment | OrderStatus::Expired => return Err(hold_expired()),
        OrderStatus::Paid
        | OrderStatus::Shipping
        | OrderStatus::Delivered
        | OrderStatus::Completed => {
            return Err(AppError::new(ErrorCode::AlreadyPaid, "the order is paid"));
        }
        other => {
            return Err(AppError::new(
                ErrorCode::InvalidTransition,
                format!("a {other} order cannot be paid"),
            ));
        }
    }
    let (provider, payment_ref, card_number) = match (method, &app.payments) {
        (PayMethod::Card { card_number }, Payments::Sandbox(sandbox)) => (
            sandbox,
            format!("sandbox_{}", payment_id.simple()),
            Some(card_number),
        ),
        (PayMethod::Card { .. }, Payments::Toss(_)) => {
            return Err(AppError::new(
                ErrorCode::PaymentMethodUnavailable,
                "sandbox cards are not accepted here; pay with Toss Payments",
            ));
        }
        (
            PayMethod::Toss {
                payment_key,
                amount,
            },
            Payments::Toss(toss),
        ) => {
            if amount != order.total {
                return Err(AppError::new(
                    ErrorCode::AmountMismatch,
                    format!("the order's total is {} won, not {amount}", order.total),
                ));
            }
            (toss, payment_key, None)
        }
        (PayMethod::Toss { .. }, Payments::Sandbox(_)) => {
            return Err(AppError::new(
                ErrorCode::ProviderNotConfigured,
                "Toss Payments is not configured",
            ));
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
    match app.store.begin_payment(&payment).await {
        Ok(()) => {}
        Err(e) if e.is_conflict_on(PAYMENTS_ONE_LIVE_PER_ORDER) => {
            return Err(AppError::new(
                ErrorCode::PaymentInProgress,
                "the order already has a payment",
            ));
        }
        Err(DbError::Conflict { .. }) => return Err(AppError::request_in_progress()),
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
    let now = app.clock.now();
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
            change.jobs.push(notice(
                Event::OrderPaid,
                Audience::User { id: order.buyer_id },
                order_id,
                [
                    ("order", order_id.to_string()),
                    ("amount", order.total.get().to_string()),
                ],
                now,
            ));
            match app.store.approve_payment(payment_id, &change).await {
                Ok(order) => Ok((order, app.store.payment(payment_id).await?)),
                // The sweep gave up on this payment and is refunding the charge.
                Err(e) if e.is_conflict_on(PAYMENT_STATUS_CHANGED) => Err(refunded()),
                Err(e) if e.is_conflict_on(ORDER_STATUS_CHANGED) => {
                    refund_later(
                        app,
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
            settle_uncharged(app, payment_id, PaymentStatus::Declined, &code, now).await?;
            Err(declined(&code, &message))
        }
        Err(ProviderError::CircuitOpen) => {
            settle_uncharged(app, payment_id, PaymentStatus::Failed, "circuit_open", now).await?;
            Err(unavailable())
        }
        // Toss asked us to slow down: it charged nothing, and is not failing.
        Err(ProviderError::RateLimited) => {
            settle_uncharged(app, payment_id, PaymentStatus::Failed, "rate_limited", now).await?;
            Err(unavailable())
        }
        Err(e) => {
            // A timeout may hide a charge that went through: cancel to be sure.
            tracing::warn!(payment = %payment_id, error = %e, "payment provider failed; cancelling any charge");
            refund_later(
                app,
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
    app: &App,
    buyer: Uuid,
    order_id: Uuid,
    payment: Payment,
) -> Result<(Order, Payment), AppError> {
    let order = app.store.order(payment.order_id).await?;
    if order.buyer_id != buyer || payment.order_id != order_id {
        return Err(AppError::idempotency_mismatch());
    }
    match payment.status {
        PaymentStatus::Approved => Ok((order, payment)),
        PaymentStatus::Pending => Err(AppError::request_in_progress()),
        PaymentStatus::Declined => Err(declined(
            payment.failure_code.as_deref().unwrap_or_default(),
            "the card was declined",
        )),
        PaymentStatus::Failed => Err(unavailable()),
        PaymentStatus::Refunding | PaymentStatus::Refunded => Err(refunded()),
    }
}

/// Records that a pending payment charged nothing. If the sweep took it first, it is being
/// refunded, and the buyer hears that, as a retry would.
async fn settle_uncharged(
    app: &App,
    payment_id: Uuid,
    status: PaymentStatus,
    code: &str,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    match app
        .store
        .settle_payment(
            payment_id,
            PaymentStatus::Pending,
            status,
            Some(code),
            at,
            &[],
        )
        .await
    {
        Err(e) if e.is_conflict_on(PAYMENT_STATUS_CHANGED) => Err(refunded()),
        other => Ok(other?),
    }
}

/// Refunds a pending payment through the outbox. One that is no longer pending was settled
/// by someone else: the sweep (it is being refunded already) or, for the sweep, its request,
/// which finished after all.
async fn refund_later(app: &App, payment_id: Uuid, reason: &str) -> Result<(), AppError> {
    let now = app.clock.now();
    let job = refund_job(payment_id, reason, now);
    match app.store.refund_later(payment_id, &job, now).await {
        Err(e) if e.is_conflict_on(PAYMENT_STATUS_CHANGED) => Ok(()),
        other => Ok(other?),
    }
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
    app: &App,
    order_id: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<Vec<NewJob>, AppError> {
    Ok(app
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
pub async fn sweep_stale(app: &App, now: DateTime<Utc>) -> Result<usize, AppError> {
    let stale = app.store.stale_payments(now - STALE_AFTER).await?;
    for payment_id in &stale {
        tracing::warn!(payment = %payment_id, "a payment was left pending; refunding any charge");
        refund_later(app, *payment_id, "the payment request did not complete").await?;
    }
    Ok(stale.len())
}

/// How long a payment may stay `pending` before the sweep refunds it. Configuration keeps
/// every pay request shorter (see [`longest_call`]): a sweep that refunded a payment whose
/// request is still waiting for the provider would cancel before the charge.
pub const STALE_AFTER: Duration = Duration::from_secs(5 * 60);

/// The longest a guarded call can take: every try times out, and jitter doubles every delay
/// between tries. Counting stops past [`STALE_AFTER`], which is all configuration needs to know.
pub fn longest_call(timeout: Duration, retries: usize, backoff: Duration) -> Duration {
    let tries = u32::try_from(retries.saturating_add(1)).unwrap_or(u32::MAX);
    provider::retry_delays(backoff, retries)
        .build()
        .try_fold(timeout.saturating_mul(tries), |total, delay| {
            let total = total.saturating_add(delay.saturating_mul(2));
            if total > STALE_AFTER {
                Err(total)
            } else {
                Ok(total)
            }
        })
        .unwrap_or_else(|total| total)
}

fn hold_expired() -> AppError {
    AppError::new(
        ErrorCode::HoldExpired,
        "the order's hold has run out; its stock went back on sale",
    )
}

fn refunded() -> AppError {
    AppError::new(
        ErrorCode::PaymentRefunded,
        "this payment could not complete its order and was refunded",
    )
}

fn unavailable() -> AppError {
    AppError::new(
        ErrorCode::PaymentUnavailable,
        "the payment provider is unavailable; retry later",
    )
    .with_retry_after(30)
}

/// A provider's refusal, under our code for it where we have one: the sandbox's codes, which
/// are the provider's own, and Toss's, which all are `payment_declined`.
fn declined(code: &str, message: &str) -> AppError {
    let stable = match code {
        "card_declined" => ErrorCode::CardDeclined,
        "insufficient_funds" => ErrorCode::InsufficientFunds,
        _ => ErrorCode::PaymentDeclined,
    };
    AppError::new(stable, message.to_owned())
        .with_details(serde_json::json!({ "provider_code": code }))
}
