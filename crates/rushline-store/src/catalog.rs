//! Products.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::ProductStatus;
use uuid::Uuid;

use crate::DbError;

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub description: String,
    pub category: String,
    /// List price in KRW.
    pub price: i64,
    /// Regular (non-drop) stock.
    pub stock: i64,
    pub status: ProductStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by a soft delete; the product then answers 404 to all but its owner and admins.
    pub deleted_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn insert_product(&self, product: &Product) -> Result<(), DbError>;

    /// Also finds soft-deleted products; callers decide who may see them.
    async fn product(&self, id: Uuid) -> Result<Product, DbError>;
}
