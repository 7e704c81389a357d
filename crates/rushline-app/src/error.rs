//! The application's one error type and the one list of error codes clients see.

use std::fmt;

use rushline_domain::FieldErrors;
use rushline_gate::GateError;
use rushline_store::DbError;
use serde::{Serialize, Serializer};

/// Defines [`ErrorCode`]: each code once, with its stable string, its HTTP status and, from its
/// doc comment, what it means (the OpenAPI document shows it).
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = ($code:literal, $status:literal),)+) => {
        /// Every error a client can be answered with. The string is the `code` of the error body,
        /// stable: clients branch on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order they are defined.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The `code` of the error body.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The HTTP status the code is answered with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)+
                }
            }

            /// What the code means, for the API's documentation.
            pub fn description(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),+).trim_ascii(),)+
                }
            }
        }
    };
}

error_codes! {
    /// The request is not valid JSON, or not the JSON the endpoint takes.
    MalformedJson = ("malformed_json", 400),
    /// A path parameter is malformed.
    InvalidPath = ("invalid_path", 400),
    /// A query parameter is malformed or out of range.
    InvalidQuery = ("invalid_query", 400),
    /// The `cursor` did not come from this list.
    InvalidCursor = ("invalid_cursor", 400),
    /// The endpoint needs an `Idempotency-Key` header.
    IdempotencyKeyRequired = ("idempotency_key_required", 400),
    /// The `Idempotency-Key` is not 1–255 visible ASCII characters.
    InvalidIdempotencyKey = ("invalid_idempotency_key", 400),
    /// The body is not valid UTF-8.
    InvalidEncoding = ("invalid_encoding", 400),
    /// Not a readable multipart form (415 when the request is not multipart at all).
    InvalidMultipart = ("invalid_multipart", 400),
    /// The code is not right, or there is no such account.
    InvalidCode = ("invalid_code", 400),
    /// Missing, expired or invalid credentials.
    Unauthorized = ("unauthorized", 401),
    /// Wrong e-mail address or password.
    InvalidCredentials = ("invalid_credentials", 401),
    /// The card was declined (`details.provider_code`).
    CardDeclined = ("card_declined", 402),
    /// The card has insufficient funds (`details.provider_code`).
    InsufficientFunds = ("insufficient_funds", 402),
    /// The provider declined the payment (`details.provider_code`).
    PaymentDeclined = ("payment_declined", 402),
    /// Not allowed for this account.
    Forbidden = ("forbidden", 403),
    /// A review of an earlier trial is overdue: no new trial until `details.barred_until`.
    TrialBarred = ("trial_barred", 403),
    /// Only a buyer with a completed order of the product (or a delivered one past its return
    /// window), or a selected tester of one of its trials, may review it.
    ReviewNotAllowed = ("review_not_allowed", 403),
    /// The drop is a raffle: only a drawn winner may buy, within their claim window.
    NotAWinner = ("not_a_winner", 403),
    /// The e-mail address is not verified yet.
    EmailUnverified = ("email_unverified", 403),
    /// The drop has a waiting room and no pass was sent in `X-Queue-Pass`.
    QueuePassRequired = ("queue_pass_required", 403),
    /// The queue pass is forged, expired, used, or for another buyer or drop.
    QueuePassInvalid = ("queue_pass_invalid", 403),
    /// No such resource, or not the caller's.
    NotFound = ("not_found", 404),
    /// The drop has no waiting room: buy directly.
    NoWaitingRoom = ("no_waiting_room", 404),
    /// The caller holds no place in the waiting room (never joined, pass used, or expiry already reported).
    NotInQueue = ("not_in_queue", 404),
    /// The method is not allowed on this resource.
    MethodNotAllowed = ("method_not_allowed", 405),
    /// The request conflicts with the current state.
    Conflict = ("conflict", 409),
    /// A request with this `Idempotency-Key` is still being processed.
    RequestInProgress = ("request_in_progress", 409),
    /// Not enough units (or coupons) remain.
    SoldOut = ("sold_out", 409),
    /// This would exceed the per-buyer limit.
    LimitReached = ("limit_reached", 409),
    /// The buyer has as many orders awaiting payment as one may have (`details.max_pending`):
    /// pay or cancel one first.
    TooManyPendingOrders = ("too_many_pending_orders", 409),
    /// The window (or the waiting room, `details.queue_opens_at`) has not opened yet.
    NotOpen = ("not_open", 409),
    /// The window has closed.
    Closed = ("closed", 409),
    /// A drop or a trial can change only before it opens.
    NotScheduled = ("not_scheduled", 409),
    /// Every slot of the trial is taken.
    TrialFull = ("trial_full", 409),
    /// The buyer has applied to this trial before (one application each, cancelled or not).
    AlreadyApplied = ("already_applied", 409),
    /// The buyer has reviewed this product already (one review each; edit it instead).
    AlreadyReviewed = ("already_reviewed", 409),
    /// The buyer has entered this raffle before (one entry each).
    AlreadyEntered = ("already_entered", 409),
    /// The drop or trial is first come, first served: it takes no entries and has no draw.
    NotARaffle = ("not_a_raffle", 409),
    /// The settlement was paid out already: it never changes again.
    SettlementPaid = ("settlement_paid", 409),
    /// The trial draws its testers: enter its raffle (`POST /api/v1/trials/{id}/entries`).
    RaffleOnly = ("raffle_only", 409),
    /// The raffle has not been drawn yet: its seed stays secret until then.
    NotDrawn = ("not_drawn", 409),
    /// The trial is paused by its seller: no applications until it resumes.
    Paused = ("paused", 409),
    /// A product in the cart is no longer on sale (`details.product_id`).
    NotOnSale = ("not_on_sale", 409),
    /// A cart line holds at most as many units as one order may hold of its product
    /// (`details.max_per_order`, `details.product_id`), and never more than 999.
    CartLineFull = ("cart_line_full", 409),
    /// The cart holds its most lines (as many as one order may have, 100): check out or remove
    /// some first.
    CartFull = ("cart_full", 409),
    /// The wishlist holds its most products (`details.max`): remove one first.
    WishlistFull = ("wishlist_full", 409),
    /// Orders hold more units than the new stock.
    StockBelowHeld = ("stock_below_held", 409),
    /// The product has the most images allowed.
    ImageLimitReached = ("image_limit_reached", 409),
    /// The window overlaps another time sale of the product.
    TimeSaleOverlap = ("time_sale_overlap", 409),
    /// An account with this e-mail address exists.
    EmailTaken = ("email_taken", 409),
    /// The coupon is applied to another order, or used.
    CouponUnavailable = ("coupon_unavailable", 409),
    /// The coupon's validity has ended.
    CouponExpired = ("coupon_expired", 409),
    /// The coupon is not valid yet.
    CouponNotYetValid = ("coupon_not_yet_valid", 409),
    /// Not enough points (`details.balance`).
    InsufficientPoints = ("insufficient_points", 409),
    /// The order (or trial application) cannot take this status now.
    InvalidTransition = ("invalid_transition", 409),
    /// The return window of the order has closed.
    ReturnWindowClosed = ("return_window_closed", 409),
    /// The order's hold has run out; its stock went back on sale.
    HoldExpired = ("hold_expired", 409),
    /// The order is paid.
    AlreadyPaid = ("already_paid", 409),
    /// The order already has a payment.
    PaymentInProgress = ("payment_in_progress", 409),
    /// The charge could not complete the order and is refunded.
    PaymentRefunded = ("payment_refunded", 409),
    /// The code has expired or was tried too often; request a new one.
    CodeExpired = ("code_expired", 410),
    /// The waiting-room place was lost (`details.reason`: `abandoned` or `pass_expired`); join again.
    QueueExpired = ("queue_expired", 410),
    /// The body is over the limit.
    PayloadTooLarge = ("payload_too_large", 413),
    /// More lines than one import takes.
    TooManyLines = ("too_many_lines", 413),
    /// The image is larger than allowed.
    ImageTooLarge = ("image_too_large", 413),
    /// The body's media type is not one the endpoint takes.
    UnsupportedMediaType = ("unsupported_media_type", 415),
    /// The file is not a JPEG, PNG or WebP image.
    UnsupportedImage = ("unsupported_image", 415),
    /// Some fields are invalid (`details.fields`).
    ValidationFailed = ("validation_failed", 422),
    /// The body does not fit the endpoint's schema (a wrong type, an unknown value).
    InvalidBody = ("invalid_body", 422),
    /// The `Idempotency-Key` was used with another request.
    IdempotencyMismatch = ("idempotency_mismatch", 422),
    /// Some `product_ids` are not in the cart (`details.product_ids`).
    NotInCart = ("not_in_cart", 422),
    /// There is nothing to check out.
    EmptyCart = ("empty_cart", 422),
    /// The coupon is not in the buyer's wallet.
    CouponNotFound = ("coupon_not_found", 422),
    /// The coupon's scope covers none of the order's products.
    CouponNotApplicable = ("coupon_not_applicable", 422),
    /// The coupon's minimum order amount is not met (`details.min_order_amount`).
    CouponMinimumNotMet = ("coupon_minimum_not_met", 422),
    /// More points than the order's total after the coupon (`details.payable`).
    PointsExceedTotal = ("points_exceed_total", 422),
    /// The amount is not the order's total.
    AmountMismatch = ("amount_mismatch", 422),
    /// Sandbox cards are not accepted where Toss Payments is configured.
    PaymentMethodUnavailable = ("payment_method_unavailable", 422),
    /// Toss Payments is not configured.
    ProviderNotConfigured = ("provider_not_configured", 422),
    /// Too many requests; see `Retry-After`.
    RateLimited = ("rate_limited", 429),
    /// The buyer has as many waiting-room event streams open as one may
    /// (`waiting_room.streams_per_user`): close one first.
    TooManyStreams = ("too_many_streams", 429),
    /// A fault of the service.
    Internal = ("internal", 500),
    /// The database is unavailable; retry later.
    DatabaseUnavailable = ("database_unavailable", 503),
    /// The stock gate is unavailable; retry later.
    GateUnavailable = ("gate_unavailable", 503),
    /// The waiting room is unavailable; retry later.
    RoomUnavailable = ("room_unavailable", 503),
    /// The rate limiter is unavailable; retry later.
    RateLimiterUnavailable = ("rate_limiter_unavailable", 503),
    /// The image store is unavailable; retry later.
    ImageStoreUnavailable = ("image_store_unavailable", 503),
    /// The payment provider timed out, failed or rate-limited us, or its breaker is open.
    PaymentUnavailable = ("payment_unavailable", 503),
    /// A dependency is unreachable (`details`).
    NotReady = ("not_ready", 503),
    /// The request (reading its body and answering it) took longer than the server allows; any
    /// operation may answer it. Retry, with the same `Idempotency-Key` where there is one.
    RequestTimeout = ("request_timeout", 503),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A refusal or a failure of the application: a stable [`ErrorCode`], a message for the client
/// and, where it helps, details. An internal cause goes to the log, never to the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    code: ErrorCode,
    message: String,
    details: Option<serde_json::Value>,
    retry_after_secs: Option<u64>,
    internal: Option<String>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retry_after_secs: None,
            internal: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthorized,
            "missing, expired or invalid credentials",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "not allowed for this account")
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "no such resource")
    }

    /// 422 `validation_failed` with `{"fields": fields}`.
    pub fn validation(fields: serde_json::Value) -> Self {
        Self::new(ErrorCode::ValidationFailed, "some fields are invalid")
            .with_details(serde_json::json!({ "fields": fields }))
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(ErrorCode::RateLimited, "too many requests; retry later")
            .with_retry_after(retry_after_secs)
    }

    /// A request reusing an `Idempotency-Key` with another body.
    pub fn idempotency_mismatch() -> Self {
        Self::new(
            ErrorCode::IdempotencyMismatch,
            "this Idempotency-Key was used with a different request",
        )
    }

    /// A retry that arrived while its first attempt is still being processed.
    pub fn request_in_progress() -> Self {
        Self::new(
            ErrorCode::RequestInProgress,
            "a request with this Idempotency-Key is still being processed",
        )
    }

    /// A fault of ours: the client learns only that it happened; the cause goes to the log.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::new(ErrorCode::Internal, "internal error").with_internal(cause.to_string())
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    pub fn with_internal(mut self, cause: impl Into<String>) -> Self {
        self.internal = Some(cause.into());
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn details(&self) -> Option<&serde_json::Value> {
        self.details.as_ref()
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// The cause to log, which the client never sees.
    pub fn internal_cause(&self) -> Option<&str> {
        self.internal.as_deref()
    }
}

/// The domain's field errors: `validation_failed` with `{"fields": {...}}`.
impl From<FieldErrors> for AppError {
    #[expect(clippy::expect_used, reason = "field names and messages are strings")]
    fn from(errors: FieldErrors) -> Self {
        Self::validation(serde_json::to_value(errors).expect("field errors serialise"))
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::not_found(),
            DbError::Conflict { constraint } => Self::new(
                ErrorCode::Conflict,
                "the request conflicts with the current state",
            )
            .with_internal(format!("unmapped constraint {constraint}")),
            DbError::Unavailable(cause) => Self::new(
                ErrorCode::DatabaseUnavailable,
                "the database is unavailable; retry later",
            )
            .with_internal(cause)
            .with_retry_after(1),
            DbError::Other(cause) => Self::internal(cause),
        }
    }
}

impl From<GateError> for AppError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::UnknownPool => Self::not_found(),
            GateError::Unavailable(cause) | GateError::Source(cause) => {
                tracing::error!(%cause, "claim gate failed");
                Self::new(
                    ErrorCode::GateUnavailable,
                    "the stock gate is unavailable; retry later",
                )
                .with_retry_after(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_with_error_statuses_and_descriptions() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} is defined twice");
            assert!(
                !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text} is not snake_case"
            );
            assert!((400..600).contains(&code.status()), "{text}");
            assert!(!code.description().is_empty(), "{text}");
        }
    }
}
