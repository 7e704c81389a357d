use axum::extract::State;
use axum::http::{StatusCode, header};
use rushline_domain::{FieldErrors, ProductStatus};
use rushline_store::Product;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ProductView;
use crate::auth::Seller;
use crate::{ApiError, AppState, ErrorBody, Json};

const NAME_MAX_CHARS: usize = 100;
const DESCRIPTION_MAX_CHARS: usize = 5_000;
const CATEGORY_MAX_CHARS: usize = 50;
/// Bounds that keep order totals (price × quantity) far from overflowing an `i64`.
const MAX_PRICE: i64 = 1_000_000_000_000;
const MAX_STOCK: i64 = 1_000_000_000;

/// A new product. Every field but `status` is required.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewProductBody {
    /// 1 to 100 characters, trimmed.
    #[schema(example = "Aurora sneakers")]
    name: Option<String>,
    /// At most 5000 characters; may be empty.
    #[schema(example = "Limited colourway, hand-stitched")]
    description: Option<String>,
    /// 1 to 50 characters; stored lowercased.
    #[schema(example = "shoes")]
    category: Option<String>,
    /// List price: a whole number of KRW, at least 1.
    #[schema(example = 129000)]
    price: Option<i64>,
    /// Regular stock, at least 0.
    #[schema(example = 40)]
    stock: Option<i64>,
    /// `draft` (default) or `active`.
    #[schema(example = "active")]
    status: Option<String>,
}

/// Lists a product for sale (or keeps it as a draft).
#[utoipa::path(
    post,
    path = "/api/v1/products",
    tag = "catalog",
    security(("bearer" = [])),
    request_body = NewProductBody,
    responses(
        (status = 201, description = "created; `Location` names it", body = ProductView),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a seller", body = ErrorBody),
        (status = 422, description = "`validation_failed`, with `details.fields`", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Seller(seller): Seller,
    Json(body): Json<NewProductBody>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<ProductView>,
    ),
    ApiError,
> {
    let mut errors = FieldErrors::new();
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    errors.check(
        (1..=NAME_MAX_CHARS).contains(&name.chars().count()),
        "name",
        format!("must be 1 to {NAME_MAX_CHARS} characters"),
    );
    errors.check(body.description.is_some(), "description", "is required");
    let description = body.description.unwrap_or_default();
    errors.check(
        description.chars().count() <= DESCRIPTION_MAX_CHARS,
        "description",
        format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
    );
    let category = body
        .category
        .as_deref()
        .map(|c| c.trim().to_lowercase())
        .unwrap_or_default();
    errors.check(
        (1..=CATEGORY_MAX_CHARS).contains(&category.chars().count()),
        "category",
        format!("must be 1 to {CATEGORY_MAX_CHARS} characters"),
    );
    let price = body.price.unwrap_or(0);
    errors.check(
        (1..=MAX_PRICE).contains(&price),
        "price",
        format!("must be 1 to {MAX_PRICE} won"),
    );
    let stock = body.stock.unwrap_or(-1);
    errors.check(
        (0..=MAX_STOCK).contains(&stock),
        "stock",
        format!("must be 0 to {MAX_STOCK}"),
    );
    let status = match body.status.as_deref() {
        None | Some("draft") => ProductStatus::Draft,
        Some("active") => ProductStatus::Active,
        Some(_) => {
            errors.add("status", "must be draft or active");
            ProductStatus::Draft
        }
    };
    errors.into_result()?;

    let now = state.clock.now();
    let product = Product {
        id: Uuid::now_v7(),
        seller_id: seller.id,
        name: name.to_owned(),
        description,
        category,
        price,
        stock,
        status,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    state.store.insert_product(&product).await?;
    let location = format!("/api/v1/products/{}", product.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(product.into()),
    ))
}
