use axum::body::Bytes;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use rushline_app::{AppError, ErrorCode};
use rushline_domain::FieldErrors;
use rushline_domain::catalog::ImageFormat;
use rushline_store::{PRODUCT_IMAGES_LIMIT, ProductImage};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ImageView, image_key, image_url, owned_product};
use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

/// The multipart form: one part named `file`.
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the request for OpenAPI; the handler reads the parts as a stream.
pub(crate) struct ImageUpload {
    /// A JPEG, PNG or WebP image (told from its bytes), at most `images.max_bytes` (5 MiB).
    #[schema(content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

errors!(UploadImageErrors: [InvalidMultipart, Unauthorized, Forbidden, NotFound, ImageLimitReached, ImageTooLarge, UnsupportedImage, ValidationFailed, ImageStoreUnavailable]);

/// Adds an image to the caller's product.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/images",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "product id")),
    request_body(content = inline(ImageUpload), content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "stored; `url` serves it", body = ImageView),
        UploadImageErrors,
    )
)]
pub(crate) async fn upload_image(
    State(state): State<AppState>,
    Seller(seller): Seller,
    Path(id): Path<Uuid>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    owned_product(&state, seller, id, false).await?;
    let mut multipart = multipart.map_err(|e| {
        ApiError::new(ErrorCode::InvalidMultipart, e.body_text())
            .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
    })?;
    let max = state.catalog.max_images_per_product;
    let bytes = read_file(&mut multipart, state.catalog.max_image_bytes).await?;
    let format = ImageFormat::sniff(&bytes).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedImage,
            "the file is not a JPEG, PNG or WebP image",
        )
    })?;
    let now = state.clock.now();
    // Checked again atomically by the store; this spares writing bytes that would be refused.
    if state.store.product_details(id, now).await?.images.len() >= max as usize {
        return Err(limit_reached(max));
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
    state
        .catalog
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
    if let Err(refused) = state.store.add_product_image(&image, max).await {
        if let Err(e) = state.catalog.images.delete(&key).await {
            tracing::warn!(error = %e, %key, "could not remove the bytes of a refused image");
        }
        return Err(if refused.is_conflict_on(PRODUCT_IMAGES_LIMIT) {
            limit_reached(max)
        } else {
            refused.into()
        });
    }
    state.catalog.cache.invalidate(id).await;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, image_url(id, image.id))],
        Json(ImageView::from(&image)),
    ))
}

/// The `file` part, read chunk by chunk so that no more than `max` bytes are ever held; other
/// parts are read past but count toward the same limit.
async fn read_file(multipart: &mut Multipart, max: usize) -> Result<Bytes, ApiError> {
    let mut total = 0;
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let is_file = field.name() == Some("file") && file.is_none();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            total += chunk.len();
            if total > max {
                return Err(ApiError::new(
                    ErrorCode::ImageTooLarge,
                    format!("an image may have at most {max} bytes"),
                ));
            }
            if is_file {
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_file {
            file = Some(Bytes::from(bytes));
        }
    }
    file.ok_or_else(|| {
        let mut errors = FieldErrors::new();
        errors.add("file", "is required: a multipart part named `file`");
        errors.into()
    })
}

/// A form that breaks off or breaks a limit: the status axum gives it.
fn malformed(e: MultipartError) -> ApiError {
    ApiError::new(ErrorCode::InvalidMultipart, e.body_text()).with_status(e.status())
}

fn limit_reached(max: u32) -> ApiError {
    ApiError::new(
        ErrorCode::ImageLimitReached,
        format!("a product may have at most {max} images"),
    )
}
