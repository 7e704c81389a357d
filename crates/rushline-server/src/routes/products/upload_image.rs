use axum::body::{Body, Bytes};
use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use http_body_util::Limited;
use rushline_app::{ErrorCode, catalog};
use rushline_domain::FieldErrors;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ImageView, image_url};
use crate::auth::Seller;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json, Path};

/// What a form may carry besides the image's bytes: boundaries, part headers, small fields.
const MULTIPART_FRAMING: usize = 64 * 1024;

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
    request: Request,
) -> Result<impl IntoResponse, ApiError> {
    let product = catalog::owned_product(&state, seller, id, false).await?;
    let max = state.catalog.max_image_bytes;
    // The whole body is read through this limit, so that a form whose boundary never comes
    // (which the parser would otherwise buffer while it looks for one) holds at most this much.
    let request = request.map(|body| Body::new(Limited::new(body, max + MULTIPART_FRAMING)));
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|e| {
            ApiError::new(ErrorCode::InvalidMultipart, e.body_text())
                .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        })?;
    let bytes = read_file(&mut multipart, max).await?;
    let image = catalog::add_image(&state, &product, bytes).await?;
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

/// A form that breaks off, or a body over the limit (413 `image_too_large`).
fn malformed(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::ImageTooLarge, "the upload is too large");
    }
    ApiError::new(ErrorCode::InvalidMultipart, e.body_text()).with_status(e.status())
}
