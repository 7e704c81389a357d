//! `/api/v1/products`: sellers list products, which drops then sell.

mod create;

use chrono::{DateTime, Utc};
use rushline_domain::ProductStatus;
use rushline_store::Product;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create::create))
}

/// A product as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProductView {
    id: Uuid,
    seller_id: Uuid,
    name: String,
    description: String,
    category: String,
    /// List price, in KRW.
    price: i64,
    stock: i64,
    /// `draft`, `active` or `archived`.
    #[schema(value_type = String, example = "active")]
    status: ProductStatus,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Product> for ProductView {
    fn from(product: Product) -> Self {
        Self {
            id: product.id,
            seller_id: product.seller_id,
            name: product.name,
            description: product.description,
            category: product.category,
            price: product.price,
            stock: product.stock,
            status: product.status,
            created_at: product.created_at,
            updated_at: product.updated_at,
        }
    }
}
