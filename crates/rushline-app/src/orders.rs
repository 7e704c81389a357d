//! The order lifecycle: status changes by buyers and by time, each applied once, each giving
//! the order's stock back to the gate when it leaves a status that holds stock.

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::notification::Event;
use rushline_domain::{FieldErrors, OrderStatus};
use rushline_gate::PoolKey;
use rushline_store::{Audience, DbError, ORDER_STATUS_CHANGED, Order, OrderTransition};
use uuid::Uuid;

use crate::notifications::notice;
use crate::{App, AppError, ErrorCode};

/// Orders moved per status per run of the lifecycle job; the next run (a second later) takes
/// the rest.
const BATCH: u32 = 500;

/// Applies `change`, then gives back in the gate whatever stock the database released with it.
pub async fn transition(app: &App, change: &OrderTransition) -> Result<Order, AppError> {
    let order = app
        .store
        .transition_order(change)
        .await
        .map_err(|e| match e {
            DbError::Conflict { constraint } if constraint == ORDER_STATUS_CHANGED => {
                AppError::new(
                    ErrorCode::InvalidTransition,
                    format!("the order cannot become {} now", change.to),
                )
            }
            other => other.into(),
        })?;
    if change.from.holds_stock() && !change.to.holds_stock() {
        release(app, &order).await;
    }
    if change.from == OrderStatus::PendingPayment {
        app.claims.no_longer_capped(order.buyer_id).await;
    }
    Ok(order)
}

/// Gives the order's claims back in the gate. The database already released them; if the gate
/// cannot be reached now, reconciliation undoes the grants later.
async fn release(app: &App, order: &Order) {
    for line in &order.lines {
        let pool = PoolKey(line.pool_key.clone());
        if let Err(e) = app.claims.gate.release(&pool, line.claim_id).await {
            tracing::warn!(order = %order.id, pool = %pool.0, error = %e, "could not release a claim in the gate; reconciliation will");
        }
    }
}

/// Cancels `buyer`'s order while it is `pending_payment` or `paid`: its stock goes back on sale,
/// and a paid order is refunded.
pub async fn cancel(app: &App, buyer: Uuid, id: Uuid) -> Result<Order, AppError> {
    let order = buyers_order(app, buyer, id).await?;
    if !order.status.can_become(OrderStatus::Cancelled) {
        return Err(AppError::new(
            ErrorCode::InvalidTransition,
            format!("a {} order cannot be cancelled", order.status),
        ));
    }
    let now = app.clock.now();
    let mut change = OrderTransition::new(id, order.status, OrderStatus::Cancelled, now, "buyer");
    if order.status == OrderStatus::Paid {
        change.jobs = crate::payments::refunds_for(app, id, "cancelled by the buyer", now).await?;
    }
    transition(app, &change).await
}

/// Asks to return `buyer`'s delivered order within the return window, for `reason` (a word
/// such as `defective`) with an optional `note` of at most 1000 characters.
pub async fn request_return(
    app: &App,
    buyer: Uuid,
    id: Uuid,
    reason: &str,
    note: Option<String>,
) -> Result<Order, AppError> {
    if note
        .as_ref()
        .is_some_and(|note| note.chars().count() > 1000)
    {
        let mut errors = FieldErrors::new();
        errors.add("note", "must be at most 1000 characters");
        return Err(errors.into());
    }
    let order = buyers_order(app, buyer, id).await?;
    let now = app.clock.now();
    if order.status != OrderStatus::Delivered {
        return Err(AppError::new(
            ErrorCode::InvalidTransition,
            format!("a {} order cannot be returned", order.status),
        ));
    }
    if now >= order.status_changed_at + app.orders.return_window {
        return Err(AppError::new(
            ErrorCode::ReturnWindowClosed,
            "the return window of this order has closed",
        ));
    }
    let mut change = OrderTransition::new(
        id,
        OrderStatus::Delivered,
        OrderStatus::ReturnRequested,
        now,
        format!("buyer: {reason}"),
    );
    change.return_request = Some((reason.to_owned(), note));
    transition(app, &change).await
}

/// The order if `viewer` may see it: its buyer, a seller of one of its lines, or an admin.
/// Anyone else gets 404, as if it did not exist.
pub async fn visible(app: &App, viewer: Uuid, admin: bool, id: Uuid) -> Result<Order, AppError> {
    let order = app.store.order(id).await?;
    let visible =
        admin || order.buyer_id == viewer || order.lines.iter().any(|l| l.seller_id == viewer);
    if visible {
        Ok(order)
    } else {
        Err(AppError::not_found())
    }
}

/// `buyer`'s order; anyone else's is as unknown as a missing one.
async fn buyers_order(app: &App, buyer: Uuid, id: Uuid) -> Result<Order, AppError> {
    let order = app.store.order(id).await?;
    if order.buyer_id != buyer {
        return Err(AppError::not_found());
    }
    Ok(order)
}

/// The time-driven steps of the lifecycle, in the order the job applies them.
fn timed_steps(app: &App) -> [(OrderStatus, OrderStatus, TimeDelta, &'static str); 5] {
    let settings = &app.orders;
    [
        (
            OrderStatus::PendingPayment,
            OrderStatus::Expired,
            TimeDelta::zero(),
            "hold_expired",
        ),
        (
            OrderStatus::Paid,
            OrderStatus::Shipping,
            settings.ship_after,
            "shipped",
        ),
        (
            OrderStatus::Shipping,
            OrderStatus::Delivered,
            settings.deliver_after,
            "delivered",
        ),
        (
            OrderStatus::Delivered,
            OrderStatus::Completed,
            settings.return_window,
            "return_window_closed",
        ),
        (
            OrderStatus::ReturnRequested,
            OrderStatus::Returned,
            settings.return_process,
            "return_processed",
        ),
    ]
}

/// Moves every order whose time has come at `now`. Safe to run on several nodes at once: each
/// change applies only from its expected status, so a race costs a refused no-op, not a second
/// transition.
pub async fn advance(app: &App, now: DateTime<Utc>) -> Result<usize, AppError> {
    let mut moved = 0;
    for (from, to, after, cause) in timed_steps(app) {
        // Pending orders are due by their hold's end; the others by their last status change.
        let due = app.store.orders_due(from, now - after, BATCH).await?;
        for (id, buyer, since) in due {
            // Dated when it was due, not when this run noticed: history stays exact even if
            // the job was down, and the next step counts from there.
            let at = since + after;
            let mut change = OrderTransition::new(id, from, to, at, cause);
            let told = match to {
                OrderStatus::Expired => Some(Event::HoldExpired),
                OrderStatus::Shipping => Some(Event::OrderShipped),
                OrderStatus::Delivered => Some(Event::OrderDelivered),
                _ => None,
            };
            if let Some(event) = told {
                let order = [("order", id.to_string())];
                change
                    .jobs
                    .push(notice(event, Audience::User { id: buyer }, id, order, at));
            }
            if to == OrderStatus::Returned {
                change.jobs =
                    crate::payments::refunds_for(app, id, "the order was returned", at).await?;
            }
            if to == OrderStatus::Completed {
                // What was charged: the total after the coupon and the points.
                let paid = app.store.order(id).await?.total;
                change.earn_points = app.earn_rate.earned(paid);
            }
            match transition(app, &change).await {
                Ok(_) => moved += 1,
                Err(e) if e.code() == ErrorCode::InvalidTransition => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(moved)
}
