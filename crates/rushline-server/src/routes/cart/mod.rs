//! `/api/v1/cart`: the buyer's cart, and checking it out as one order.

mod add;
mod checkout;
mod remove;
mod show;
mod update;

use chrono::{DateTime, Utc};
use rushline_app::AppError;
use rushline_app::coupons::order_too_large;
use rushline_domain::{FieldErrors, ProductStatus, Won};
use rushline_gate::PoolKey;
use rushline_store::{CartItem, DbError, ProductDetails, product_pool_key};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState};

/// The most units of one product a cart line holds.
const MAX_QUANTITY: i32 = 999;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show::show))
        .routes(routes!(add::add))
        .routes(routes!(update::update, remove::remove))
        .routes(routes!(checkout::checkout))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuantityBody {
    /// 1–999.
    quantity: i64,
}

fn quantity(value: i64) -> Result<i32, ApiError> {
    i32::try_from(value)
        .ok()
        .filter(|q| (1..=MAX_QUANTITY).contains(q))
        .ok_or_else(|| {
            let mut errors = FieldErrors::new();
            errors.add("quantity", format!("must be between 1 and {MAX_QUANTITY}"));
            errors.into()
        })
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CartView {
    items: Vec<CartLineView>,
    /// Of the lines on sale, at their effective prices now, in KRW.
    #[schema(value_type = i64)]
    total: Won,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CartLineView {
    product_id: Uuid,
    name: String,
    quantity: i32,
    /// The effective price now (a running time sale's, if lower).
    #[schema(value_type = i64)]
    unit_price: Won,
    #[schema(value_type = i64)]
    subtotal: Won,
    /// Units left in stock, from the claim gate.
    available: u64,
    /// False once the product is no longer active (archived, deleted): such lines cannot be
    /// checked out.
    on_sale: bool,
    added_at: DateTime<Utc>,
}

/// A product as a cart line shows it; `None` when it no longer exists.
async fn line(
    state: &AppState,
    item: &CartItem,
    now: DateTime<Utc>,
) -> Result<CartLineView, ApiError> {
    let details = state.store.product_details(item.product_id, now).await?;
    let available = state
        .claims
        .gate
        .remaining(&PoolKey(product_pool_key(item.product_id)))
        .await?
        .unwrap_or(0);
    let unit_price = details.effective_price(now);
    let subtotal = unit_price
        .checked_mul(i64::from(item.quantity))
        .ok_or_else(order_too_large)?;
    Ok(CartLineView {
        product_id: item.product_id,
        name: details.product.name.clone(),
        quantity: item.quantity,
        unit_price,
        subtotal,
        available,
        on_sale: on_sale(&details),
        added_at: item.added_at,
    })
}

fn on_sale(details: &ProductDetails) -> bool {
    details.product.status == ProductStatus::Active && details.product.deleted_at.is_none()
}

/// The cart as the buyer sees it now.
async fn view(state: &AppState, buyer: Uuid) -> Result<CartView, ApiError> {
    let now = state.clock.now();
    let mut items = Vec::new();
    for item in state.store.cart(buyer).await? {
        items.push(line(state, &item, now).await?);
    }
    // Only a cart of some 9,000 lines at the highest price could overflow: refused, never wrapped.
    let total = Won::checked_sum(items.iter().filter(|l| l.on_sale).map(|l| l.subtotal))
        .ok_or_else(order_too_large)?;
    Ok(CartView { items, total })
}

/// A product the buyer may put in the cart: active and not deleted; 404 otherwise.
async fn buyable(state: &AppState, product: Uuid) -> Result<(), ApiError> {
    match state
        .store
        .product_details(product, state.clock.now())
        .await
    {
        Ok(details) if on_sale(&details) => Ok(()),
        Ok(_) | Err(DbError::NotFound) => Err(AppError::not_found().into()),
        Err(e) => Err(e.into()),
    }
}
