//! Buying units of an open drop: the hot path. Window check (and, behind a waiting room, the
//! pass) → one atomic step in the claim gate → (pass used up) → group-committed order, which also
//! holds the buyer to the cap on unpaid orders. No database read on the way (but a count of the
//! buyer's unpaid orders behind a waiting room, before the pass is spent), except on a retry
//! (also one refused as `closed` or for an expired pass, which may follow a purchase that went
//! through), and for a coupon or points, which are checked first and reserved or spent with the
//! order, in its transaction. A raffle drop also reads the buyer's place in its draw: only a
//! winner within their claim window buys.

use chrono::{DateTime, Utc};
use rushline_domain::drop::{Window, window_status};
use rushline_domain::money::{MAX_LINE_QUANTITY, MAX_ORDER_TOTAL};
use rushline_domain::pricing::PricedLine;
use rushline_domain::{FieldErrors, OrderStatus, Won};
use rushline_gate::{Claim, PoolKey};
use rushline_store::{ClaimWrite, DbError, NewOrderLine, ProductDrop};
use uuid::Uuid;

use crate::claims::place::{
    OrderDraft, Placement, Refusal, check_pending_orders, check_recently_capped, claim_row, place,
};
use crate::claims::{Creates, first_attempt, request_id};
use crate::coupons::{Redeem, order_too_large};
use crate::rooms::{PassRefused, pass_invalid};
use crate::{App, AppError, ErrorCode};

/// What a buyer asks to buy.
#[derive(Debug, Clone, Copy)]
pub struct PurchaseRequest {
    pub drop_id: Uuid,
    /// Units, 1–1000 (and within the drop's per-user limit).
    pub quantity: i64,
    pub redeem: Redeem,
}

/// The order a purchase created, holding its units until `hold_expires_at`: the first answer,
/// given again to every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchased {
    pub order_id: Uuid,
    pub drop_id: Uuid,
    pub quantity: u32,
    pub unit_price: Won,
    /// `quantity × unit_price`.
    pub subtotal: Won,
    /// What the coupon took off.
    pub discount: Won,
    /// Points spent.
    pub points: Won,
    pub coupon_id: Option<Uuid>,
    /// What payment charges: `subtotal − discount − points`.
    pub total: Won,
    pub status: OrderStatus,
    pub hold_expires_at: DateTime<Utc>,
    /// The purchase's place in the order in which the drop's stock was granted.
    pub seq: u64,
}

/// Buys units of a drop for `buyer`, under the request's idempotency `key`; `pass` is the
/// buyer's waiting-room pass, needed on a drop with a room.
///
/// The pass is used up when the gate grants the units (freeing its `max_active` place); a
/// purchase refused by the gate leaves it valid, and a retry answers with the first order
/// although the pass is used. (Should the order then fail to commit, the pass stays spent: the
/// room has no way to give a pass back.)
pub async fn purchase(
    app: &App,
    buyer: Uuid,
    key: String,
    pass: Option<&str>,
    request: PurchaseRequest,
) -> Result<Purchased, AppError> {
    // The drop's per-user limit usually binds first.
    let quantity = u32::try_from(request.quantity)
        .ok()
        .filter(|q| (1..=MAX_LINE_QUANTITY).contains(&i64::from(*q)))
        .ok_or_else(|| {
            let mut errors = FieldErrors::new();
            errors.add(
                "quantity",
                format!("must be between 1 and {MAX_LINE_QUANTITY}"),
            );
            AppError::from(errors)
        })?;
    let drop = app.drops.get(&app.store, request.drop_id).await?;
    let now = app.clock.now();
    let order_id = request_id(buyer, Creates::Order, &key);
    let redeem = request.redeem;
    let asked = Asked {
        buyer,
        drop: drop.id,
        quantity,
        redeem,
        order_id,
    };
    match admissible(app, &drop, pass, buyer, now) {
        Ok(()) => {}
        Err(Refused::Now(refusal)) => return Err(refusal),
        // Only these may be the retry of a purchase that went through: it gets the first answer.
        Err(Refused::UnlessRetried(refusal)) => {
            return match app.store.order(order_id).await {
                Ok(_) => asked.replay(app).await,
                Err(DbError::NotFound) => Err(refusal),
                Err(e) => Err(e.into()),
            };
        }
    }
    if drop.raffle.is_some()
        && let Err(refusal) = crate::raffles::check_winner(app, &drop, buyer, now).await
    {
        // A winner whose window has passed may be retrying a purchase that went through.
        return match app.store.order(order_id).await {
            Ok(_) => asked.replay(app).await,
            Err(DbError::NotFound) => Err(refusal),
            Err(e) => Err(e.into()),
        };
    }
    // Behind a waiting room the purchase spends a pass the room cannot give back, so a buyer at
    // the cap is counted before it (the room already paces these purchases); elsewhere the group
    // commit counts, without a read here.
    let capped = if drop.waiting_room.is_some() {
        check_pending_orders(app, buyer).await
    } else {
        check_recently_capped(app, buyer).await
    };
    if let Err(refused) = capped {
        // The buyer's unpaid orders may include this request's own, from its first attempt.
        return match app.store.order(order_id).await {
            Ok(_) => asked.replay(app).await,
            Err(DbError::NotFound) => Err(refused),
            Err(e) => Err(e.into()),
        };
    }
    let subtotal = line_amount(drop.price, quantity)?;
    let line = PricedLine {
        product_id: drop.product_id,
        seller_id: drop.seller_id,
        amount: subtotal,
    };
    let (total, redemption) = match crate::coupons::price(app, buyer, &[line], redeem, now).await {
        Ok(priced) => priced,
        // Only a coupon or points are refused here: a retry finds them taken by its own first
        // attempt, and is answered from that order.
        Err(refused) => match app.store.order(order_id).await {
            Ok(_) => return asked.replay(app).await,
            Err(_) => return Err(refused),
        },
    };
    let claim = Claim {
        user: buyer,
        qty: quantity,
        request_id: order_id,
        fingerprint: redeem.fingerprint(&[
            b"purchase",
            drop.id.as_bytes(),
            &quantity.to_be_bytes(),
        ]),
        at: now.timestamp_micros(),
    };
    let mut purchase = DropPurchase {
        claims: [(PoolKey(drop.pool_key()), claim)],
        asked,
        order: OrderDraft {
            id: order_id,
            buyer,
            key,
            total,
            redemption,
            created_at: now,
            hold_expires_at: now + app.orders.hold_for,
            max_pending: app.orders.max_pending_per_buyer,
            cause: "purchase",
        },
        drop: &drop,
        subtotal,
    };
    place(app, &mut purchase).await
}

/// What a purchase asked for: enough to tell its retry from another request under its key.
#[derive(Debug, Clone, Copy)]
struct Asked {
    buyer: Uuid,
    drop: Uuid,
    quantity: u32,
    redeem: Redeem,
    order_id: Uuid,
}

impl Asked {
    /// Answers a retried purchase with the order its first attempt created, once that is durable.
    async fn replay(&self, app: &App) -> Result<Purchased, AppError> {
        let order = first_attempt(|| app.store.order(self.order_id)).await?;
        let [line] = order.lines.as_slice() else {
            return Err(AppError::idempotency_mismatch());
        };
        if order.buyer_id != self.buyer
            || line.drop_id != Some(self.drop)
            || line.qty != i32::try_from(self.quantity).unwrap_or(-1)
            || order.redemption.coupon_id != self.redeem.coupon_id
            || order.redemption.points != self.redeem.points
        {
            return Err(AppError::idempotency_mismatch());
        }
        Ok(Purchased {
            order_id: self.order_id,
            drop_id: self.drop,
            quantity: self.quantity,
            unit_price: line.unit_price,
            subtotal: line_amount(line.unit_price, self.quantity)?,
            discount: order.redemption.discount,
            points: order.redemption.points,
            coupon_id: order.redemption.coupon_id,
            total: order.total,
            status: OrderStatus::PendingPayment,
            hold_expires_at: order.hold_expires_at,
            seq: u64::try_from(line.seq).map_err(AppError::internal)?,
        })
    }
}

/// A purchase past its checks: one claim in the drop's pool, one order of one line.
struct DropPurchase<'a> {
    claims: [(PoolKey, Claim); 1],
    asked: Asked,
    order: OrderDraft,
    drop: &'a ProductDrop,
    subtotal: Won,
}

/// `quantity` units at `unit_price`, if within what an order may cost. A price within its bound
/// always is; a drop priced before the bound held may not be.
fn line_amount(unit_price: Won, quantity: u32) -> Result<Won, AppError> {
    unit_price
        .checked_mul(i64::from(quantity))
        .filter(|amount| *amount <= MAX_ORDER_TOTAL)
        .ok_or_else(order_too_large)
}

impl Placement for DropPurchase<'_> {
    type Answer = Purchased;
    const POOL: &'static str = "drop";

    fn claims(&self) -> &[(PoolKey, Claim)] {
        &self.claims
    }

    fn refused(&self, refusal: Refusal, _line: Option<usize>) -> AppError {
        match refusal {
            Refusal::SoldOut => AppError::new(ErrorCode::SoldOut, "not enough units remain"),
            Refusal::LimitReached => AppError::new(
                ErrorCode::LimitReached,
                "this would exceed the drop's per-buyer limit",
            ),
        }
    }

    /// Uses the buyer's pass up, in the room shared by every node: of two purchases with one
    /// pass, one gets it.
    async fn granted(&self, app: &App) -> Result<(), AppError> {
        if self.drop.waiting_room.is_none() {
            return Ok(());
        }
        match app
            .rooms
            .use_pass(self.drop.id, self.asked.buyer, self.order.created_at)
            .await?
        {
            true => Ok(()),
            false => Err(pass_invalid("the queue pass was used or has expired")),
        }
    }

    fn write(&mut self, seqs: &[u64]) -> ClaimWrite {
        let (pool, claim) = &self.claims[0];
        let row = claim_row(pool, claim, seqs[0], self.order.created_at);
        self.order.write(vec![NewOrderLine {
            product_id: self.drop.product_id,
            drop_id: Some(self.drop.id),
            qty: row.qty,
            unit_price: self.drop.price,
            claim: row,
        }])
    }

    async fn committed(&self, _app: &App, seqs: &[u64]) -> Result<Purchased, AppError> {
        let redemption = self.order.redemption;
        Ok(Purchased {
            order_id: self.asked.order_id,
            drop_id: self.drop.id,
            quantity: self.asked.quantity,
            unit_price: self.drop.price,
            subtotal: self.subtotal,
            discount: redemption.discount,
            points: redemption.points,
            coupon_id: redemption.coupon_id,
            total: self.order.total,
            status: OrderStatus::PendingPayment,
            hold_expires_at: self.order.hold_expires_at,
            seq: seqs[0],
        })
    }

    async fn replay(&self, app: &App) -> Result<Purchased, AppError> {
        self.asked.replay(app).await
    }
}

/// A purchase refused before the gate, answered without I/O unless it may be the retry of one
/// that went through.
enum Refused {
    /// Not open yet, or without a pass this buyer was ever given for this drop.
    Now(AppError),
    /// The drop has closed, or the pass has expired, since a first attempt may have bought.
    UnlessRetried(AppError),
}

/// Whether the drop takes this purchase now: its window is open and, on a drop with a waiting
/// room, the buyer's pass is valid.
fn admissible(
    app: &App,
    drop: &ProductDrop,
    pass: Option<&str>,
    buyer: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Refused> {
    match window_status(now, drop.opens_at, drop.closes_at) {
        Window::Scheduled => Err(Refused::Now(AppError::new(
            ErrorCode::NotOpen,
            "the drop has not opened yet",
        ))),
        Window::Closed => Err(Refused::UnlessRetried(AppError::new(
            ErrorCode::Closed,
            "the drop has closed",
        ))),
        Window::Open if drop.waiting_room.is_some() => app
            .rooms
            .check_pass(pass, drop.id, buyer, now)
            .map_err(|refused| match refused {
                PassRefused::Invalid(e) => Refused::Now(e),
                PassRefused::Expired(e) => Refused::UnlessRetried(e),
            }),
        Window::Open => Ok(()),
    }
}
