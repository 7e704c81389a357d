//! Products: the catalog's listing and pages, their images and time sales.
//!
//! Another seller's product answers 404, as a missing one does, so that nobody learns of drafts
//! or deleted products they cannot see.

mod create;
mod create_time_sale;
mod delete;
mod image;
mod list;
mod list_time_sales;
mod show;
mod update;
mod upload_image;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rushline_app::catalog::CachedProduct;
use rushline_domain::catalog::{effective_price, next_price_change};
use rushline_domain::{ProductStatus, Won};
use rushline_store::{Product, ProductDetails, ProductImage, TimeSale};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::{ApiError, AppState};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list, create::create))
        .routes(routes!(show::show, update::update, delete::delete))
        .routes(routes!(
            list_time_sales::list_time_sales,
            create_time_sale::create_time_sale
        ))
        .routes(routes!(image::image))
        // The upload handler enforces the configured image size while it reads the body.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload_image::upload_image))
                .layer(DefaultBodyLimit::disable()),
        )
}

/// A product as the API shows it, with its price at the time of the request.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProductView {
    id: Uuid,
    seller_id: Uuid,
    name: String,
    description: String,
    category: String,
    /// List price, in KRW.
    #[schema(value_type = i64)]
    price: Won,
    /// What the product costs now: the lower of `price` and the active time sale's price.
    #[schema(value_type = i64)]
    effective_price: Won,
    /// The time sale in force now, if any.
    active_time_sale: Option<TimeSaleView>,
    stock: i64,
    /// `draft`, `active` or `archived`; only `active` products are listed publicly.
    #[schema(value_type = String, example = "active")]
    status: ProductStatus,
    /// Units of the product one order may hold.
    max_per_order: i32,
    /// Oldest first.
    images: Vec<ImageView>,
    /// Its visible reviews' mean rating and count (`/products/{id}/review-stats` has the rest).
    rating: RatingView,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Present once soft-deleted (seen only by the owner and admins).
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<DateTime<Utc>>,
}

impl ProductView {
    fn new(details: &ProductDetails, now: DateTime<Utc>) -> Self {
        let product = &details.product;
        let active = details
            .time_sales
            .iter()
            .find(|s| s.window().is_active(now));
        Self {
            id: product.id,
            seller_id: product.seller_id,
            name: product.name.clone(),
            description: product.description.clone(),
            category: product.category.clone(),
            price: product.price,
            effective_price: effective_price(product.price, active.map(TimeSale::window).as_ref()),
            active_time_sale: active.map(TimeSaleView::from),
            stock: product.stock,
            status: product.status,
            max_per_order: product.max_per_order,
            images: details.images.iter().map(ImageView::from).collect(),
            rating: RatingView {
                average: details.rating.average(),
                count: details.rating.count(),
            },
            created_at: product.created_at,
            updated_at: product.updated_at,
            deleted_at: product.deleted_at,
        }
    }
}

/// Until when the prices shown for `details` at `now` stay right.
fn valid_until<'a>(
    details: impl IntoIterator<Item = &'a ProductDetails>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let windows: Vec<_> = details
        .into_iter()
        .flat_map(|d| d.time_sales.iter().map(TimeSale::window))
        .collect();
    next_price_change(&windows, now)
}

/// A product's rating in short.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingView {
    /// 1 to 5; null without reviews.
    average: Option<f64>,
    count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimeSaleView {
    id: Uuid,
    product_id: Uuid,
    /// Sale price, in KRW.
    #[schema(value_type = i64)]
    price: Won,
    starts_at: DateTime<Utc>,
    /// Exclusive: the sale price no longer applies at this instant.
    ends_at: DateTime<Utc>,
}

impl From<&TimeSale> for TimeSaleView {
    fn from(sale: &TimeSale) -> Self {
        Self {
            id: sale.id,
            product_id: sale.product_id,
            price: sale.price,
            starts_at: sale.starts_at,
            ends_at: sale.ends_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImageView {
    id: Uuid,
    /// Serves the bytes; immutable, so clients and CDNs may cache it for good.
    #[schema(example = "/api/v1/products/0199…/images/0199…")]
    url: String,
    #[schema(example = "image/png")]
    content_type: String,
    size_bytes: i64,
}

impl From<&ProductImage> for ImageView {
    fn from(image: &ProductImage) -> Self {
        Self {
            id: image.id,
            url: image_url(image.product_id, image.id),
            content_type: image.content_type.clone(),
            size_bytes: image.size_bytes,
        }
    }
}

fn image_url(product: Uuid, image: Uuid) -> String {
    format!("/api/v1/products/{product}/images/{image}")
}

#[expect(
    clippy::expect_used,
    reason = "API views are derived structs of strings, numbers and times"
)]
fn json_bytes(value: &impl Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("API views serialise"))
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Active products are public; others only for their owner and admins.
fn may_see(seller_id: Uuid, public: bool, viewer: Option<AuthUser>) -> bool {
    public || viewer.is_some_and(|v| v.is_admin() || v.id == seller_id)
}

fn is_public(product: &Product) -> bool {
    product.status == ProductStatus::Active && product.deleted_at.is_none()
}

/// The rendered page of product `id`, through the cache.
async fn product_page(
    state: &AppState,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<CachedProduct, ApiError> {
    state
        .catalog
        .cache
        .product(id, now, || async move {
            let details = state.store.product_details(id, now).await?;
            let page = CachedProduct {
                seller_id: details.product.seller_id,
                public: is_public(&details.product),
                body: json_bytes(&ProductView::new(&details, now)),
            };
            Ok::<_, ApiError>((page, valid_until([&details], now)))
        })
        .await
}
