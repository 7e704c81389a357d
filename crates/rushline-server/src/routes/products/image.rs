use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rushline_app::catalog::image_key;
use rushline_app::{AppError, ErrorCode};
use uuid::Uuid;

use crate::openapi::errors;
use crate::{ApiError, AppState, Path};

/// An image never changes under its URL, so it may be cached for a year without revalidation.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

errors!(ImageErrors: [NotFound]);

/// The bytes of a product image, for whoever has its URL, until the product is deleted.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/images/{image_id}",
    tag = "catalog",
    params(
        ("id" = Uuid, Path, description = "product id"),
        ("image_id" = Uuid, Path, description = "image id"),
    ),
    responses(
        (status = 200, description = "the image; `ETag` is its SHA-256, `Cache-Control` immutable",
         content(("image/jpeg"), ("image/png"), ("image/webp"))),
        (status = 304, description = "`If-None-Match` named the current `ETag`"),
        ImageErrors,
    )
)]
pub(crate) async fn image(
    State(state): State<AppState>,
    Path((product_id, image_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let image = state.store.product_image(product_id, image_id).await?;
    let etag = format!("\"{}\"", image.sha256);
    let caching = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, IMMUTABLE.to_owned()),
    ];
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, caching).into_response());
    }
    let key = image_key(product_id, image_id);
    let bytes = async { state.catalog.images.get(&key).await?.bytes().await }
        .await
        .map_err(|e| match e {
            // The row exists but its bytes do not: an inconsistency worth a 500 and a log line.
            object_store::Error::NotFound { .. } => {
                AppError::internal(format!("image {key} has no bytes: {e}"))
            }
            e => {
                tracing::error!(error = %e, %key, "could not read an image");
                AppError::new(
                    ErrorCode::ImageStoreUnavailable,
                    "images cannot be read right now",
                )
                .with_retry_after(1)
            }
        })?;
    let content_type = HeaderValue::from_str(&image.content_type)
        .map_err(|e| AppError::internal(format!("stored content type: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        caching,
        bytes,
    )
        .into_response())
}
