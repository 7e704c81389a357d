//! The one error type of the HTTP layer and the one place it becomes a response.

use std::any::Any;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rushline_app::{AppError, ErrorCode};
use rushline_domain::FieldErrors;
use rushline_gate::GateError;
use rushline_store::DbError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// An error answer: the application's error and the HTTP status of its code. Internal causes are
/// logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: AppError,
}

/// The JSON body of every error: `{"error": {"code": "sold_out", "message": "…"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable; clients branch on it.
    #[schema(schema_with = error_code_schema)]
    pub code: ErrorCode,
    pub message: String,
    /// Present for `validation_failed`: `{"fields": {"name": ["…"]}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// Every code an error body may carry, from [`ErrorCode::ALL`].
fn error_code_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
        .examples([ErrorCode::SoldOut.as_str()])
        .into()
}

/// The status a code is answered with.
pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::new(code, message).into()
    }

    /// Answers with `status` rather than the code's own: where the HTTP library, not the
    /// application, tells what went wrong.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> ErrorCode {
        self.error.code()
    }

    /// The body this error answers with, in its response or on another channel (an event in a
    /// server-sent stream). Internal causes stay out.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.error.code(),
                message: self.error.message().to_owned(),
                details: self.error.details().cloned(),
            },
        }
    }
}

/// The one place an application error becomes an HTTP error.
impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self {
            status: status_of(error.code()),
            error,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        AppError::from(e).into()
    }
}

impl From<GateError> for ApiError {
    fn from(e: GateError) -> Self {
        AppError::from(e).into()
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        AppError::from(errors).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.error.code();
        if let Some(cause) = self.error.internal_cause() {
            tracing::error!(code = %code, %cause, "request failed");
        } else if self.status.is_server_error() {
            tracing::warn!(code = %code, message = %self.error.message(), "request failed");
        }
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.error.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::new(ErrorCode::InvalidBody, e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::new(
                ErrorCode::UnsupportedMediaType,
                "expected a request with `Content-Type: application/json`",
            ),
            // Over the body limit (axum's default, 2 MiB): not malformed, just too much.
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            }
            other => Self::new(ErrorCode::MalformedJson, other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(ErrorCode::InvalidPath, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(ErrorCode::InvalidQuery, rejection.body_text())
    }
}

pub(crate) async fn not_found() -> ApiError {
    AppError::not_found().into()
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed on this resource",
    )
}

pub(crate) fn panicked(cause: Box<dyn Any + Send + 'static>) -> Response {
    let cause = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::from(AppError::internal(format!("handler panicked: {cause}"))).into_response()
}
