//! A seller's products: creating (idempotently), changing, deleting, their time sales and
//! images. Another seller's product is answered as missing, so that nobody learns of drafts or
//! deleted products they cannot see.

use bytes::Bytes;
use rushline_domain::catalog::{ImageFormat, ProductFields, TimeSaleFields};
use rushline_domain::{RatingHistogram, Role};
use rushline_gate::PoolKey;
use rushline_store::{
    DbError, POOLS_HELD_CHECK, PRODUCT_IMAGES_LIMIT, Product, ProductDetails, ProductImage,
    TIME_SALES_NO_OVERLAP, TimeSale, product_pool_key,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::claims::{Creates, created_id};
use crate::{App, AppError, AuthUser, ErrorCode};

/// Creates a product of `seller`'s. With an idempotency `key`, a retry gets the product the
/// first attempt created, and a different body under the same key `idempotency_mismatch`.
pub async fn create_product(
    app: &App,
    seller: AuthUser,
    key: Option<&str>,
    fields: ProductFields,
) -> Result<ProductDetails, AppError> {
    let new = fields.validate_new()?;
    let now = app.clock.now();
    let product = Product {
        id: created_id(seller.id, Creates::Product, key),
        seller_id: seller.id,
        name: new.name,
        description: new.description,
        category: new.category,
        price: new.price,
        stock: new.stock,
        status: new.status,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        max_per_order: new.max_per_order,
    };
    match app.store.insert_product(&product).await {
        Ok(()) => {
            app.catalog.cache.invalidate(product.id).await;
            Ok(ProductDetails {
                product,
                images: Vec::new(),
                time_sales: Vec::new(),
                rating: RatingHistogram::default(),
            })
        }
        Err(DbError::Conflict { .. }) if key.is_some() => {
            let first = app.store.product_details(product.id, now).await?;
            let terms = |p: &Product| {
                (
                    p.seller_id,
                    p.name.clone(),
                    p.description.clone(),
                    p.category.clone(),
                    p.price,
                    p.stock,
                    p.status,
                    p.max_per_order,
                )
            };
            if terms(&first.product) != terms(&product) {
                return Err(AppError::idempotency_mismatch());
            }
            Ok(first)
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes a product: its seller or an admin. A new stock rebuilds the gate's pool; a stock
/// below the units orders hold is refused.
pub async fn update_product(
    app: &App,
    caller: AuthUser,
    id: Uuid,
    fields: ProductFields,
) -> Result<ProductDetails, AppError> {
    if caller.role == Role::Buyer {
        return Err(AppError::forbidden());
    }
    owned_product(app, caller, id, true).await?;
    let changes = fields.validate_changes()?;
    let now = app.clock.now();
    match app.store.update_product(id, &changes, now).await {
        Err(e) if e.is_conflict_on(POOLS_HELD_CHECK) => {
            return Err(AppError::new(
                ErrorCode::StockBelowHeld,
                "orders hold more units than this stock",
            ));
        }
        updated => {
            updated?;
        }
    }
    if changes.stock.is_some() {
        // The gate's copy of the pool has the old total: rebuild it from the database.
        app.claims
            .gate
            .invalidate(&PoolKey(product_pool_key(id)))
            .await?;
    }
    app.catalog.cache.invalidate(id).await;
    Ok(app.store.product_details(id, now).await?)
}

/// Soft-deletes a product: its seller or an admin.
pub async fn delete_product(app: &App, caller: AuthUser, id: Uuid) -> Result<(), AppError> {
    if caller.role == Role::Buyer {
        return Err(AppError::forbidden());
    }
    owned_product(app, caller, id, true).await?;
    app.store.delete_product(id, app.clock.now()).await?;
    app.catalog.cache.invalidate(id).await;
    Ok(())
}

/// Puts one of `seller`'s products on sale for a window that overlaps none of its others.
pub async fn create_time_sale(
    app: &App,
    seller: AuthUser,
    id: Uuid,
    fields: TimeSaleFields,
) -> Result<TimeSale, AppError> {
    let product = owned_product(app, seller, id, false).await?;
    let now = app.clock.now();
    let window = fields.validate(product.price, now)?;
    let sale = TimeSale {
        id: Uuid::now_v7(),
        product_id: id,
        price: window.price,
        starts_at: window.starts_at,
        ends_at: window.ends_at,
        created_at: now,
    };
    match app.store.insert_time_sale(&sale).await {
        Err(e) if e.is_conflict_on(TIME_SALES_NO_OVERLAP) => {
            return Err(AppError::new(
                ErrorCode::TimeSaleOverlap,
                "the window overlaps another time sale of this product",
            ));
        }
        inserted => inserted?,
    }
    app.catalog.cache.invalidate(id).await;
    Ok(sale)
}

/// Adds an image to `product`, which [`owned_product`] gave the caller before its bytes were
/// read (within `max_image_bytes`): the bytes go to the object store first, the row second, and
/// the bytes are removed again when the row is refused.
pub async fn add_image(
    app: &App,
    product: &Product,
    bytes: Bytes,
) -> Result<ProductImage, AppError> {
    let id = product.id;
    let max = app.catalog.max_images_per_product;
    let format = ImageFormat::sniff(&bytes).ok_or_else(|| {
        AppError::new(
            ErrorCode::UnsupportedImage,
            "the file is not a JPEG, PNG or WebP image",
        )
    })?;
    let now = app.clock.now();
    // Checked again atomically by the store; this spares writing bytes that would be refused.
    if app.store.product_details(id, now).await?.images.len() >= max as usize {
        return Err(image_limit_reached(max));
    }
    let image = ProductImage {
        id: Uuid::now_v7(),
        product_id: id,
        content_type: format.content_type().to_owned(),
        size_bytes: bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&bytes)),
        created_at: now,
    };
    let key = image_key(id, image.id);
    app.catalog
        .images
        .put(&key, bytes.into())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, %key, "could not store an image");
            AppError::new(
                ErrorCode::ImageStoreUnavailable,
                "images cannot be stored right now",
            )
            .with_retry_after(1)
        })?;
    if let Err(refused) = app.store.add_product_image(&image, max).await {
        if let Err(e) = app.catalog.images.delete(&key).await {
            tracing::warn!(error = %e, %key, "could not remove the bytes of a refused image");
        }
        return Err(if refused.is_conflict_on(PRODUCT_IMAGES_LIMIT) {
            image_limit_reached(max)
        } else {
            refused.into()
        });
    }
    app.catalog.cache.invalidate(id).await;
    Ok(image)
}

/// Where an image's bytes live in the object store.
pub fn image_key(product: Uuid, image: Uuid) -> object_store::path::Path {
    object_store::path::Path::from(format!("products/{product}/{image}"))
}

fn image_limit_reached(max: u32) -> AppError {
    AppError::new(
        ErrorCode::ImageLimitReached,
        format!("a product may have at most {max} images"),
    )
}

/// Only the owner (and, where `admins`, an admin) may change a product; anyone else is told it
/// does not exist. Deleted products cannot be changed.
pub async fn owned_product(
    app: &App,
    caller: AuthUser,
    id: Uuid,
    admins: bool,
) -> Result<Product, AppError> {
    let product = app.store.product(id).await?;
    let allowed = caller.id == product.seller_id || (admins && caller.is_admin());
    if !allowed || product.deleted_at.is_some() {
        return Err(AppError::not_found());
    }
    Ok(product)
}
