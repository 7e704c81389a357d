use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use rushline_gate::{Claim, ClaimOutcome, PoolKey};
use rushline_store::{
    CartItem, ClaimRow, ClaimWrite, CommitOutcome, DbError, NewOrder, NewOrderLine, Order,
    product_pool_key,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::on_sale;
use crate::auth::{AuthUser, Buyer};
use crate::claims::{Creates, first_attempt, request_id};
use rushline_domain::pricing::PricedLine;

use crate::coupons::Redeem;
use crate::orders::OrderView;
use crate::{ApiError, AppState, ErrorBody, IdempotencyKey, Json};

#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutBody {
    /// The lines to buy; absent: the whole cart.
    product_ids: Option<Vec<Uuid>>,
    /// A coupon of the buyer's wallet, applied to the lines its scope covers.
    coupon_id: Option<Uuid>,
    /// Points to spend, one won each: at most the balance and the total after the coupon.
    #[serde(default)]
    points: i64,
}

/// A cart line priced for the order.
struct Line {
    item: CartItem,
    seller_id: Uuid,
    unit_price: i64,
    claim_id: Uuid,
}

/// Checks out the cart, or the chosen lines of it, as one order: every line's stock is claimed
/// in the gate or none is (claims already made are undone), then the order is group-committed
/// and the lines leave the cart. A retry with the same `Idempotency-Key` returns the same order.
#[utoipa::path(
    post,
    path = "/api/v1/cart/checkout",
    tag = "cart",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters")),
    request_body = CheckoutBody,
    responses(
        (status = 201, body = OrderView),
        (status = 400, description = "`idempotency_key_required`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a buyer", body = ErrorBody),
        (status = 409, description = "`sold_out` (with `details.product_id`), `not_on_sale`, `request_in_progress`; `coupon_unavailable`, `coupon_expired`, `coupon_not_yet_valid`, `insufficient_points`", body = ErrorBody),
        (status = 422, description = "`empty_cart`, `not_in_cart`, `idempotency_mismatch`, `validation_failed`; `coupon_not_found`, `coupon_not_applicable`, `coupon_minimum_not_met`, `points_exceed_total`", body = ErrorBody),
        (status = 503, description = "`gate_unavailable`, `database_unavailable`", body = ErrorBody),
    )
)]
pub(crate) async fn checkout(
    State(state): State<AppState>,
    Buyer(buyer): Buyer,
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<CheckoutBody>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let now = state.clock.now();
    let order_id = request_id(buyer.id, Creates::Order, &key);
    let redeem = Redeem {
        coupon_id: body.coupon_id,
        points: body.points,
    };
    // A retry answers with the first attempt's order even though that emptied the cart (and
    // reserved its coupon, spent its points).
    match state.store.order(order_id).await {
        Ok(order) => return replay(order, buyer, &body, redeem),
        Err(DbError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let chosen = async {
        let lines = chosen_lines(&state, buyer, body.product_ids.clone(), order_id).await?;
        let priced: Vec<PricedLine> = lines
            .iter()
            .map(|line| PricedLine {
                product_id: line.item.product_id,
                seller_id: line.seller_id,
                amount: line.unit_price * i64::from(line.item.quantity),
            })
            .collect();
        let (total, redemption) =
            crate::coupons::price(&state, buyer.id, &priced, redeem, now).await?;
        Ok::<_, ApiError>((lines, total, redemption))
    };
    let (lines, total, redemption) = match chosen.await {
        Ok(chosen) => chosen,
        // The first attempt may have committed since the lookup above, emptying the cart and
        // taking the coupon or points this copy was just refused.
        Err(refused) => match state.store.order(order_id).await {
            Ok(order) => return replay(order, buyer, &body, redeem),
            Err(_) => return Err(refused),
        },
    };
    let mut parts: Vec<Vec<u8>> = vec![b"checkout".to_vec()];
    for line in &lines {
        parts.push(line.item.product_id.as_bytes().to_vec());
        parts.push(line.item.quantity.to_be_bytes().to_vec());
    }
    let fingerprint = redeem.fingerprint(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>());

    let mut granted: Vec<(PoolKey, Uuid, u64)> = Vec::with_capacity(lines.len());
    for line in &lines {
        let pool = PoolKey(product_pool_key(line.item.product_id));
        let claim = Claim {
            user: buyer.id,
            qty: u32::try_from(line.item.quantity).expect("cart quantities are positive"),
            request_id: line.claim_id,
            fingerprint,
            at: now.timestamp_micros(),
        };
        let outcome = match state.claims.claim("product", &pool, &claim).await {
            Ok(outcome) => outcome,
            Err(e) => {
                undo(&state, &granted).await;
                return Err(e);
            }
        };
        let refusal = match outcome {
            ClaimOutcome::Granted { seq } => {
                granted.push((pool, line.claim_id, seq));
                continue;
            }
            ClaimOutcome::Replayed { .. } => {
                undo(&state, &granted).await;
                let order = first_attempt(|| state.store.order(order_id)).await?;
                return replay(order, buyer, &body, redeem);
            }
            ClaimOutcome::Mismatch => ApiError::idempotency_mismatch(),
            ClaimOutcome::SoldOut | ClaimOutcome::LimitReached => sold_out(line.item.product_id),
        };
        undo(&state, &granted).await;
        return Err(refusal);
    }

    let order = NewOrder {
        id: order_id,
        buyer_id: buyer.id,
        idempotency_key: key,
        total,
        hold_expires_at: now + state.orders.hold_for,
        created_at: now,
        cause: "checkout",
        lines: lines
            .iter()
            .zip(&granted)
            .map(|(line, (pool, claim_id, seq))| NewOrderLine {
                product_id: line.item.product_id,
                drop_id: None,
                qty: line.item.quantity,
                unit_price: line.unit_price,
                claim: ClaimRow {
                    id: *claim_id,
                    pool_key: pool.0.clone(),
                    user_id: buyer.id,
                    qty: line.item.quantity,
                    seq: i64::try_from(*seq).expect("seq fits in i64"),
                    fingerprint: i64::try_from(fingerprint).expect("fingerprints have 63 bits"),
                    claimed_at: now,
                    released_at: None,
                },
            })
            .collect(),
        redemption,
    };
    match state.claims.commit(ClaimWrite::Order(order)).await? {
        CommitOutcome::Committed => {}
        CommitOutcome::Duplicate => {
            let order = first_attempt(|| state.store.order(order_id)).await?;
            return replay(order, buyer, &body, redeem);
        }
        CommitOutcome::SoldOut | CommitOutcome::LimitReached => {
            return Err(ApiError::conflict(
                "sold_out",
                "some lines are no longer in stock",
            ));
        }
        CommitOutcome::CouponUnavailable => return Err(crate::coupons::coupon_unavailable()),
        CommitOutcome::InsufficientPoints => return Err(crate::coupons::insufficient_points()),
    }
    let bought: Vec<Uuid> = lines.iter().map(|l| l.item.product_id).collect();
    // The order is made: a cart line left behind would only be a leftover, never a second sale.
    if let Err(e) = state.store.remove_cart_items(buyer.id, &bought).await {
        tracing::warn!(order = %order_id, error = %e, "could not empty the cart after checkout");
    }
    Ok((
        StatusCode::CREATED,
        Json(state.store.order(order_id).await?.into()),
    ))
}

/// The cart lines to buy, priced now, in product order (so that fingerprints and claims do not
/// depend on the order of the cart or of `product_ids`).
async fn chosen_lines(
    state: &AppState,
    buyer: AuthUser,
    wanted: Option<Vec<Uuid>>,
    order_id: Uuid,
) -> Result<Vec<Line>, ApiError> {
    let mut cart = state.store.cart(buyer.id).await?;
    if let Some(wanted) = wanted {
        let wanted: BTreeSet<Uuid> = wanted.into_iter().collect();
        let missing: Vec<&Uuid> = wanted
            .iter()
            .filter(|id| !cart.iter().any(|i| i.product_id == **id))
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_in_cart",
                "some product_ids are not in the cart",
            )
            .with_details(json!({ "product_ids": missing })));
        }
        cart.retain(|item| wanted.contains(&item.product_id));
    }
    if cart.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_cart",
            "there is nothing to check out",
        ));
    }
    cart.sort_by_key(|item| item.product_id);
    let now = state.clock.now();
    let mut lines = Vec::with_capacity(cart.len());
    for item in cart {
        let details = state.store.product_details(item.product_id, now).await?;
        if !on_sale(&details) {
            return Err(ApiError::conflict(
                "not_on_sale",
                "a product in the cart is no longer on sale",
            )
            .with_details(json!({ "product_id": item.product_id })));
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

/// Undoes the grants this request made before one of its lines was refused.
async fn undo(state: &AppState, granted: &[(PoolKey, Uuid, u64)]) {
    for (pool, claim_id, _) in granted {
        state.claims.undo(pool, *claim_id).await;
    }
}

/// Answers a retried checkout with the order its first attempt created, unless the retry names
/// other lines, another coupon or other points than that order has.
fn replay(
    order: Order,
    buyer: AuthUser,
    body: &CheckoutBody,
    redeem: Redeem,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let ordered: BTreeSet<Uuid> = order.lines.iter().map(|line| line.product_id).collect();
    let same = order.buyer_id == buyer.id
        && order.redemption.coupon_id == redeem.coupon_id
        && order.redemption.points == redeem.points
        && body
            .product_ids
            .as_ref()
            .is_none_or(|wanted| wanted.iter().copied().collect::<BTreeSet<_>>() == ordered);
    if !same {
        return Err(ApiError::idempotency_mismatch());
    }
    Ok((StatusCode::CREATED, Json(order.into())))
}

fn sold_out(product: Uuid) -> ApiError {
    ApiError::conflict("sold_out", "not enough units of a product remain")
        .with_details(json!({ "product_id": product }))
}
