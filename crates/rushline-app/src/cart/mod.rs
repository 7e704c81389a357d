//! The buyer's cart: what it holds at today's prices and stock, changing it, and checking it out
//! as one order.

mod checkout;

use chrono::{DateTime, Utc};
use rushline_domain::money::MAX_ORDER_LINES;
use rushline_domain::{FieldErrors, ProductStatus, Won};
use rushline_gate::PoolKey;
use rushline_store::{
    CART_ITEMS_QUANTITY_CHECK, CartItem, DbError, ProductDetails, product_pool_key,
};
use serde_json::json;
use uuid::Uuid;

pub use checkout::{CheckoutRequest, checkout};

use crate::coupons::order_too_large;
use crate::{App, AppError, ErrorCode};

/// The most units of one product a cart line holds.
pub const MAX_CART_QUANTITY: i32 = 999;

/// The cart as the buyer sees it now.
#[derive(Debug, Clone)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    /// Of the lines on sale, at their effective prices now.
    pub total: Won,
}

#[derive(Debug, Clone)]
pub struct CartLine {
    pub product_id: Uuid,
    pub name: String,
    pub quantity: i32,
    /// The effective price now (a running time sale's, if lower).
    pub unit_price: Won,
    pub subtotal: Won,
    /// Units left in stock, from the claim gate.
    pub available: u64,
    /// False once the product is no longer active (archived, deleted).
    pub on_sale: bool,
    pub added_at: DateTime<Utc>,
}

/// Whether a product can be bought: active and not deleted.
pub fn on_sale(details: &ProductDetails) -> bool {
    details.product.status == ProductStatus::Active && details.product.deleted_at.is_none()
}

/// `buyer`'s cart at today's prices and stock. Only a cart of some 9,000 lines at the highest
/// price could overflow its total: refused, never wrapped.
pub async fn contents(app: &App, buyer: Uuid) -> Result<Cart, AppError> {
    let now = app.clock.now();
    let mut lines = Vec::new();
    for item in app.store.cart(buyer).await? {
        lines.push(line(app, &item, now).await?);
    }
    let total = Won::checked_sum(lines.iter().filter(|l| l.on_sale).map(|l| l.subtotal))
        .ok_or_else(order_too_large)?;
    Ok(Cart { lines, total })
}

/// Puts `quantity` more units of an active product in the cart (one line per product); the
/// cart after.
pub async fn add(app: &App, buyer: Uuid, product: Uuid, quantity: i64) -> Result<Cart, AppError> {
    let quantity = valid_quantity(quantity)?;
    let max_per_order = match app.store.product_details(product, app.clock.now()).await {
        Ok(details) if on_sale(&details) => details.product.max_per_order,
        Ok(_) | Err(DbError::NotFound) => return Err(AppError::not_found()),
        Err(e) => return Err(e.into()),
    };
    // As many lines as one order may have: every cart can be checked out at once, and showing
    // one costs a bounded number of reads. (Concurrent adds of new products may pass this
    // together; each is one line more.)
    let lines = app.store.cart(buyer).await?;
    if lines.len() >= MAX_ORDER_LINES && lines.iter().all(|l| l.product_id != product) {
        return Err(AppError::new(
            ErrorCode::CartFull,
            format!("a cart holds at most {MAX_ORDER_LINES} lines; check out or remove some"),
        ));
    }
    let held = lines
        .iter()
        .find(|l| l.product_id == product)
        .map_or(0, |l| l.quantity);
    if held.saturating_add(quantity) > max_per_order {
        return Err(line_full(product, max_per_order));
    }
    match app
        .store
        .add_to_cart(buyer, product, quantity, app.clock.now())
        .await
    {
        Ok(_) => contents(app, buyer).await,
        Err(e) if e.is_conflict_on(CART_ITEMS_QUANTITY_CHECK) => Err(AppError::new(
            ErrorCode::CartLineFull,
            format!("a cart line holds at most {MAX_CART_QUANTITY} units"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Sets how many units of `product` the cart holds; the cart after.
pub async fn set_quantity(
    app: &App,
    buyer: Uuid,
    product: Uuid,
    quantity: i64,
) -> Result<Cart, AppError> {
    let quantity = valid_quantity(quantity)?;
    let max_per_order = match app.store.product(product).await {
        Ok(found) => found.max_per_order,
        Err(DbError::NotFound) => return Err(AppError::not_found()),
        Err(e) => return Err(e.into()),
    };
    if quantity > max_per_order {
        return Err(line_full(product, max_per_order));
    }
    app.store
        .set_cart_quantity(buyer, product, quantity, app.clock.now())
        .await?;
    contents(app, buyer).await
}

/// A line would hold more units of `product` than one order may.
pub(crate) fn line_full(product: Uuid, max_per_order: i32) -> AppError {
    AppError::new(
        ErrorCode::CartLineFull,
        format!("one order holds at most {max_per_order} units of this product"),
    )
    .with_details(json!({ "product_id": product, "max_per_order": max_per_order }))
}

fn valid_quantity(value: i64) -> Result<i32, AppError> {
    i32::try_from(value)
        .ok()
        .filter(|q| (1..=MAX_CART_QUANTITY).contains(q))
        .ok_or_else(|| {
            let mut errors = FieldErrors::new();
            errors.add(
                "quantity",
                format!("must be between 1 and {MAX_CART_QUANTITY}"),
            );
            errors.into()
        })
}

async fn line(app: &App, item: &CartItem, now: DateTime<Utc>) -> Result<CartLine, AppError> {
    let details = app.store.product_details(item.product_id, now).await?;
    let available = app
        .claims
        .gate
        .remaining(&PoolKey(product_pool_key(item.product_id)))
        .await?
        .unwrap_or(0);
    let unit_price = details.effective_price(now);
    let subtotal = unit_price
        .checked_mul(i64::from(item.quantity))
        .ok_or_else(order_too_large)?;
    Ok(CartLine {
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
