//! Products, their images and their time sales.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::catalog::{ProductChanges, ProductCursor, ProductSort, SaleWindow};
use rushline_domain::{ProductStatus, Won};
use uuid::Uuid;

use crate::DbError;

/// Refuses a time sale whose window overlaps another of the same product.
pub const TIME_SALES_NO_OVERLAP: &str = "time_sales_no_overlap";
/// Refuses an image beyond the per-product limit.
pub const PRODUCT_IMAGES_LIMIT: &str = "product_images_limit";

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub description: String,
    pub category: String,
    /// List price.
    pub price: Won,
    /// Regular (non-drop) stock.
    pub stock: i64,
    pub status: ProductStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by a soft delete; the product then answers 404 to all but its owner and admins.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Units of the product one order may hold.
    pub max_per_order: i32,
}

/// An uploaded image; its bytes live in the object store, not in the database.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductImage {
    pub id: Uuid,
    pub product_id: Uuid,
    /// `image/jpeg`, `image/png` or `image/webp`, as sniffed from the bytes.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes: the HTTP entity tag.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeSale {
    pub id: Uuid,
    pub product_id: Uuid,
    pub price: Won,
    pub starts_at: DateTime<Utc>,
    /// Exclusive: the sale price no longer applies at this instant.
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl TimeSale {
    pub fn window(&self) -> SaleWindow {
        SaleWindow {
            price: self.price,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }
}

/// A product with what its page shows: images (oldest first) and the time sales that have not
/// ended at the time asked about (by start).
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDetails {
    pub product: Product,
    pub images: Vec<ProductImage>,
    pub time_sales: Vec<TimeSale>,
    /// Its visible reviews per star, from the review statistics.
    pub rating: rushline_domain::RatingHistogram,
}

impl ProductDetails {
    /// The price a buyer pays at `now`: the lowest of the list price and an active time sale's.
    pub fn effective_price(&self, now: DateTime<Utc>) -> Won {
        let active = self
            .time_sales
            .iter()
            .map(TimeSale::window)
            .find(|w| w.is_active(now));
        rushline_domain::catalog::effective_price(self.product.price, active.as_ref())
    }
}

/// Whose products a listing shows. Soft-deleted products are never listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListScope {
    /// The public catalog: `active` products only.
    Active,
    /// One seller's own products in every status.
    OwnedBy(Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductQuery {
    pub scope: ListScope,
    pub category: Option<String>,
    pub seller_id: Option<Uuid>,
    /// Words that must all occur in the name or description; empty for no search.
    pub terms: Vec<String>,
    pub sort: ProductSort,
    /// Must be a cursor of `sort`.
    pub after: Option<ProductCursor>,
    pub limit: u32,
}

/// The pool a product's regular stock is sold from: its total is the product's `stock`.
pub fn product_pool_key(id: Uuid) -> String {
    format!("product:{id}")
}

/// The constraint a stock change breaks when orders hold more units than the new stock.
pub const POOLS_HELD_CHECK: &str = "pools_held_check";

#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn insert_product(&self, product: &Product) -> Result<(), DbError>;

    /// Also finds soft-deleted products; callers decide who may see them.
    async fn product(&self, id: Uuid) -> Result<Product, DbError>;

    /// Applies `changes` to a product that is not deleted; `NotFound` otherwise. A new `stock`
    /// becomes its pool's total; `Conflict { POOLS_HELD_CHECK }` when orders hold more.
    async fn update_product(
        &self,
        id: Uuid,
        changes: &ProductChanges,
        now: DateTime<Utc>,
    ) -> Result<Product, DbError>;

    /// Soft delete: sets `deleted_at`. `NotFound` when missing or already deleted.
    async fn delete_product(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError>;

    /// A product (deleted or not) with its images and the time sales not ended at `now`.
    async fn product_details(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ProductDetails, DbError>;

    /// One page of a listing, in `query.sort` order, each product with its images and the time
    /// sales not ended at `now`.
    async fn list_products(
        &self,
        query: &ProductQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<ProductDetails>, DbError>;

    /// Adds an image to a product that is not deleted, atomically refusing it with
    /// `Conflict { PRODUCT_IMAGES_LIMIT }` when the product already has `max_per_product`.
    async fn add_product_image(
        &self,
        image: &ProductImage,
        max_per_product: u32,
    ) -> Result<(), DbError>;

    /// An image of a product that is not deleted.
    async fn product_image(
        &self,
        product_id: Uuid,
        image_id: Uuid,
    ) -> Result<ProductImage, DbError>;

    /// Adds a time sale to a product that is not deleted, atomically refusing it with
    /// `Conflict { TIME_SALES_NO_OVERLAP }` when its window overlaps another of the product's.
    async fn insert_time_sale(&self, sale: &TimeSale) -> Result<(), DbError>;

    /// Every time sale of a product, past ones too, by start.
    async fn time_sales(&self, product_id: Uuid) -> Result<Vec<TimeSale>, DbError>;
}
