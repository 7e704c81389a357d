//! `/api/v1/cart`: the buyer's cart, and checking it out as one order.

mod add;
mod checkout;
mod remove;
mod show;
mod update;

use chrono::{DateTime, Utc};
use rushline_app::cart::{Cart, CartLine};
use rushline_domain::Won;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

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
    pub(crate) quantity: i64,
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

impl From<Cart> for CartView {
    fn from(cart: Cart) -> Self {
        Self {
            items: cart.lines.into_iter().map(CartLineView::from).collect(),
            total: cart.total,
        }
    }
}

impl From<CartLine> for CartLineView {
    fn from(line: CartLine) -> Self {
        Self {
            product_id: line.product_id,
            name: line.name,
            quantity: line.quantity,
            unit_price: line.unit_price,
            subtotal: line.subtotal,
            available: line.available,
            on_sale: line.on_sale,
            added_at: line.added_at,
        }
    }
}
