//! Checking out the cart, or chosen lines of it, as one order: every line's stock is claimed in
//! the gate or none is (claims already made are undone), then the order is group-committed and
//! the lines leave the cart. The order id (and each line's claim id) derives from the buyer and
//! the idempotency key, so a retry finds the first order, even after the checkout emptied the
//! cart.

use std::collections::BTreeSet;

use rushline_domain::money::MAX_ORDER_LINES;
use rushline_domain::pricing::PricedLine;
use rushline_domain::{FieldErrors, Won};
use rushline_gate::{Claim, PoolKey};
use rushline_store::{CartItem, ClaimWrite, DbError, NewOrderLine, Order, product_pool_key};
use serde_json::json;
use uuid::Uuid;

use super::{line_full, on_sale};
use crate::claims::place::{
    OrderDraft, Placement, Refusal, check_pending_orders, claim_row, place,
};
use crate::claims::{Creates, first_attempt, request_id};
use crate::coupons::{Redeem, order_too_large};
use crate::{App, AppError, ErrorCode};

/// What a buyer checks out.
#[derive(Debug, Clone, Default)]
pub struct CheckoutRequest {
    /// The lines to buy; `None`: the whole cart.
    pub product_ids: Option<Vec<Uuid>>,
    pub redeem: Redeem,
}

/// Checks out `buyer`'s cart under the request's idempotency `key`; answers with the order,
/// the first one again on a retry.
pub async fn checkout(
    app: &App,
    buyer: Uuid,
    key: String,
    request: CheckoutRequest,
) -> Result<Order, AppError> {
    let now = app.clock.now();
    let order_id = request_id(buyer, Creates::Order, &key);
    let asked = Asked {
        buyer,
        request: &request,
        order_id,
    };
    // A retry answers with the first attempt's order even though that emptied the cart (and
    // reserved its coupon, spent its points).
    match app.store.order(order_id).await {
        Ok(order) => return asked.same(order),
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let chosen = async {
        check_pending_orders(app, buyer).await?;
        let lines = chosen_lines(app, buyer, request.product_ids.clone(), order_id).await?;
        let priced = lines
            .iter()
            .map(|line| {
                let amount = line
                    .unit_price
                    .checked_mul(i64::from(line.item.quantity))
                    .ok_or_else(order_too_large)?;
                Ok(PricedLine {
                    product_id: line.item.product_id,
                    seller_id: line.seller_id,
                    amount,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let (total, redemption) =
            crate::coupons::price(app, buyer, &priced, request.redeem, now).await?;
        Ok::<_, AppError>((lines, total, redemption))
    };
    let (lines, total, redemption) = match chosen.await {
        Ok(chosen) => chosen,
        // The first attempt may have committed since the lookup above, emptying the cart and
        // taking the coupon or points this copy was just refused.
        Err(refused) => match app.store.order(order_id).await {
            Ok(order) => return asked.same(order),
            Err(_) => return Err(refused),
        },
    };
    let mut parts: Vec<Vec<u8>> = vec![b"checkout".to_vec()];
    for line in &lines {
        parts.push(line.item.product_id.as_bytes().to_vec());
        parts.push(line.item.quantity.to_be_bytes().to_vec());
    }
    let fingerprint = request
        .redeem
        .fingerprint(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let claims = lines
        .iter()
        .map(|line| {
            let claim = Claim {
                user: buyer,
                qty: u32::try_from(line.item.quantity).map_err(AppError::internal)?,
                request_id: line.claim_id,
                fingerprint,
                at: now.timestamp_micros(),
            };
            Ok((PoolKey(product_pool_key(line.item.product_id)), claim))
        })
        .collect::<Result<_, AppError>>()?;
    let mut checkout = Checkout {
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
            cause: "checkout",
        },
        claims,
        lines,
    };
    place(app, &mut checkout).await
}

/// A cart line priced for the order.
struct Line {
    item: CartItem,
    seller_id: Uuid,
    unit_price: Won,
    claim_id: Uuid,
}

/// The cart lines to buy, priced now, in product order (so that fingerprints and claims do not
/// depend on the order of the cart or of `product_ids`).
async fn chosen_lines(
    app: &App,
    buyer: Uuid,
    wanted: Option<Vec<Uuid>>,
    order_id: Uuid,
) -> Result<Vec<Line>, AppError> {
    let mut cart = app.store.cart(buyer).await?;
    if let Some(wanted) = wanted {
        let wanted: BTreeSet<Uuid> = wanted.into_iter().collect();
        let missing: Vec<&Uuid> = wanted
            .iter()
            .filter(|id| !cart.iter().any(|i| i.product_id == **id))
            .collect();
        if !missing.is_empty() {
            return Err(AppError::new(
                ErrorCode::NotInCart,
                "some product_ids are not in the cart",
            )
            .with_details(json!({ "product_ids": missing })));
        }
        cart.retain(|item| wanted.contains(&item.product_id));
    }
    if cart.is_empty() {
        return Err(AppError::new(
            ErrorCode::EmptyCart,
            "there is nothing to check out",
        ));
    }
    if cart.len() > MAX_ORDER_LINES {
        let mut errors = FieldErrors::new();
        errors.add(
            "product_ids",
            format!("an order has at most {MAX_ORDER_LINES} lines: choose them here"),
        );
        return Err(errors.into());
    }
    cart.sort_by_key(|item| item.product_id);
    let now = app.clock.now();
    let mut lines = Vec::with_capacity(cart.len());
    for item in cart {
        let details = app.store.product_details(item.product_id, now).await?;
        if !on_sale(&details) {
            return Err(AppError::new(
                ErrorCode::NotOnSale,
                "a product in the cart is no longer on sale",
            )
            .with_details(json!({ "product_id": item.product_id })));
        }
        // The seller may have lowered the limit since the line was added.
        if item.quantity > details.product.max_per_order {
            return Err(line_full(item.product_id, details.product.max_per_order));
        }
        lines.push(Line {
            seller_id: details.product.seller_id,
            unit_price: details.effective_price(now),
            // One claim per line, named by the order and the product: a retry names the same.
            claim_id: Uuid::new_v5(&order_id, item.product_id.as_bytes()),
            item,
        });
    }
    Ok(lines)
}

/// What a checkout asked for: enough to tell its retry from another request under its key.
#[derive(Debug, Clone, Copy)]
struct Asked<'a> {
    buyer: Uuid,
    request: &'a CheckoutRequest,
    order_id: Uuid,
}

impl Asked<'_> {
    /// The first attempt's order, unless this request names other lines, another coupon or
    /// other points than that order has.
    fn same(&self, order: Order) -> Result<Order, AppError> {
        let ordered: BTreeSet<Uuid> = order.lines.iter().map(|line| line.product_id).collect();
        let redeem = self.request.redeem;
        let same =
            order.buyer_id == self.buyer
                && order.redemption.coupon_id == redeem.coupon_id
                && order.redemption.points == redeem.points
                && self.request.product_ids.as_ref().is_none_or(|wanted| {
                    wanted.iter().copied().collect::<BTreeSet<_>>() == ordered
                });
        if !same {
            return Err(AppError::idempotency_mismatch());
        }
        Ok(order)
    }
}

/// A checkout past its checks: one claim per line, in its product's pool, and one order.
struct Checkout<'a> {
    asked: Asked<'a>,
    order: OrderDraft,
    claims: Vec<(PoolKey, Claim)>,
    lines: Vec<Line>,
}

impl Placement for Checkout<'_> {
    type Answer = Order;
    const POOL: &'static str = "product";

    fn claims(&self) -> &[(PoolKey, Claim)] {
        &self.claims
    }

    fn refused(&self, _refusal: Refusal, line: Option<usize>) -> AppError {
        match line {
            Some(line) => AppError::new(ErrorCode::SoldOut, "not enough units of a product remain")
                .with_details(json!({ "product_id": self.lines[line].item.product_id })),
            None => AppError::new(ErrorCode::SoldOut, "some lines are no longer in stock"),
        }
    }

    fn write(&mut self, seqs: &[u64]) -> ClaimWrite {
        let lines = self
            .lines
            .iter()
            .zip(&self.claims)
            .zip(seqs)
            .map(|((line, (pool, claim)), &seq)| NewOrderLine {
                product_id: line.item.product_id,
                drop_id: None,
                qty: line.item.quantity,
                unit_price: line.unit_price,
                claim: claim_row(pool, claim, seq, self.order.created_at),
            })
            .collect();
        self.order.write(lines)
    }

    /// The order is made: the lines leave the cart, and the order is answered as stored.
    async fn committed(&self, app: &App, _seqs: &[u64]) -> Result<Order, AppError> {
        let order_id = self.asked.order_id;
        let bought: Vec<Uuid> = self.lines.iter().map(|l| l.item.product_id).collect();
        // A cart line left behind would only be a leftover, never a second sale.
        if let Err(e) = app.store.remove_cart_items(self.asked.buyer, &bought).await {
            tracing::warn!(order = %order_id, error = %e, "could not empty the cart after checkout");
        }
        Ok(app.store.order(order_id).await?)
    }

    async fn replay(&self, app: &App) -> Result<Order, AppError> {
        let order = first_attempt(|| app.store.order(self.asked.order_id)).await?;
        self.asked.same(order)
    }
}
