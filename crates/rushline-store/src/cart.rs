//! Buyers' carts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DbError;

/// The most units of one product a cart line may hold.
pub const CART_ITEMS_QUANTITY_CHECK: &str = "cart_items_quantity_check";

#[derive(Debug, Clone, PartialEq)]
pub struct CartItem {
    pub product_id: Uuid,
    pub quantity: i32,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait CartStore: Send + Sync {
    /// Adds `quantity` units of a product, merging with the line already there; returns the
    /// line. `Conflict { CART_ITEMS_QUANTITY_CHECK }` past 999 units.
    async fn add_to_cart(
        &self,
        user: Uuid,
        product: Uuid,
        quantity: i32,
        now: DateTime<Utc>,
    ) -> Result<CartItem, DbError>;

    /// `NotFound` when the product is not in the cart.
    async fn set_cart_quantity(
        &self,
        user: Uuid,
        product: Uuid,
        quantity: i32,
        now: DateTime<Utc>,
    ) -> Result<CartItem, DbError>;

    /// `NotFound` when the product is not in the cart.
    async fn remove_from_cart(&self, user: Uuid, product: Uuid) -> Result<(), DbError>;

    /// The lines, oldest first.
    async fn cart(&self, user: Uuid) -> Result<Vec<CartItem>, DbError>;

    /// Removes these lines, if present (after a checkout).
    async fn remove_cart_items(&self, user: Uuid, products: &[Uuid]) -> Result<(), DbError>;
}
