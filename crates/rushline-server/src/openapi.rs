//! The OpenAPI document, generated from the handlers' annotations; each operation's error
//! answers are generated from the codes it declares with [`errors!`].

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::get;
use rushline_app::ErrorCode;
use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder};

use crate::AppState;
use crate::error::status_of;

/// Declares the error answers of an operation, `responses(…, Name)` in its `utoipa::path`: the
/// codes it may answer with, from which its responses are generated, one per status.
macro_rules! errors {
    ($name:ident: [$($code:ident),+ $(,)?]) => {
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::openapi::error_responses(&[$(rushline_app::ErrorCode::$code),+])
            }
        }
    };
}
pub(crate) use errors;

/// One response per status among `codes`, its description a line per code (`` `code`: what it
/// means ``), its body an [`ErrorBody`](crate::ErrorBody).
pub(crate) fn error_responses(codes: &[ErrorCode]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for &code in codes {
        by_status
            .entry(status_of(code).as_u16())
            .or_default()
            .push(code);
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let description = codes
                .iter()
                .map(|&code| describe(code))
                .collect::<Vec<_>>()
                .join("\n\n");
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// A code's line in an error response's description.
fn describe(code: ErrorCode) -> String {
    format!("`{code}`: {}", code.description())
}

/// Adds to every operation the error answers of its extractors, which refuse a request before
/// its handler runs and so are not in its [`errors!`]: a bearer token (401 `unauthorized`), path
/// parameters (400 `invalid_path`), query parameters (400 `invalid_query`), an `Idempotency-Key`
/// header, and a JSON body (400 `malformed_json`, 413 `payload_too_large`, 415
/// `unsupported_media_type`, 422 `invalid_body`). Generated from the operation's declared shape,
/// so a new operation documents them without listing them. An `Idempotency-Key` header gets the
/// schema of what the extractor takes.
pub(crate) fn add_extractor_errors(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let codes = extractor_errors(operation);
            add_error_codes(&mut operation.responses.responses, &codes);
            for parameter in operation.parameters.iter_mut().flatten() {
                if parameter.parameter_in == ParameterIn::Header
                    && parameter.name.eq_ignore_ascii_case("idempotency-key")
                {
                    parameter.schema = Some(idempotency_key_schema());
                }
            }
        }
    }
}

/// What [`IdempotencyKey`](crate::IdempotencyKey) takes: 1–255 visible ASCII characters.
fn idempotency_key_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(255))
        .pattern(Some("^[!-~]+$"))
        .into()
}

/// The codes the extractors of `operation` may answer with, from its parameters, request body
/// and security.
fn extractor_errors(operation: &Operation) -> Vec<ErrorCode> {
    let mut codes = Vec::new();
    let bearer = operation.security.iter().flatten().any(|requirement| {
        serde_json::to_value(requirement).is_ok_and(|value| value.get("bearer").is_some())
    });
    // A token that is required, or optional but sent and bad: either is a 401.
    if bearer {
        codes.push(ErrorCode::Unauthorized);
    }
    let parameters = operation.parameters.iter().flatten();
    for parameter in parameters {
        match parameter.parameter_in {
            ParameterIn::Path => codes.push(ErrorCode::InvalidPath),
            ParameterIn::Query => codes.push(ErrorCode::InvalidQuery),
            ParameterIn::Header if parameter.name.eq_ignore_ascii_case("idempotency-key") => {
                if parameter.required == Required::True {
                    codes.push(ErrorCode::IdempotencyKeyRequired);
                }
                codes.push(ErrorCode::InvalidIdempotencyKey);
            }
            _ => {}
        }
    }
    // The `Json` extractor takes only `application/json`; operations with other media types read
    // their bodies themselves and declare their own errors.
    let json_body = operation.request_body.as_ref().is_some_and(|body| {
        body.content.len() == 1 && body.content.contains_key("application/json")
    });
    if json_body {
        codes.extend([
            ErrorCode::MalformedJson,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::InvalidBody,
        ]);
    }
    codes
}

/// Adds `codes` to `responses`: a code whose status has a response joins its description, once;
/// the others get responses of their own.
fn add_error_codes(responses: &mut BTreeMap<String, RefOr<Response>>, codes: &[ErrorCode]) {
    let mut new = Vec::new();
    for &code in codes {
        let status = status_of(code).as_u16().to_string();
        match responses.get_mut(&status) {
            Some(RefOr::T(response)) => {
                let line = describe(code);
                if !response.description.split("\n\n").any(|l| l == line) {
                    response.description.push_str("\n\n");
                    response.description.push_str(&line);
                }
            }
            Some(RefOr::Ref(_)) => {}
            None => new.push(code),
        }
    }
    for (status, response) in error_responses(&new) {
        responses.entry(status).or_insert(response);
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "rushline",
        description = "Fair first-come-first-served sales of limited stock. Money is integer KRW; \
                       times are RFC 3339 UTC; every error is `{\"error\": {\"code\", \"message\"}}` \
                       with a stable code. Any operation may also answer 500 `internal` or 503 \
                       `request_timeout`."
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::ErrorBody)),
    tags(
        (name = "ops", description = "Health, readiness and metrics"),
        (name = "catalog", description = "Products, their images and time sales"),
        (name = "auth", description = "Sign-up, e-mail verification, login and refresh-token sessions"),
        (name = "me", description = "The caller's own account"),
        (name = "drops", description = "Limited allocations sold in a window, and purchases"),
        (name = "cart", description = "The buyer's cart, checked out as one all-or-nothing order"),
        (name = "coupons", description = "Coupon campaigns claimed first come, first served, and buyers' wallets"),
        (name = "points", description = "Buyers' points: earned on completed orders, spent at checkout"),
        (name = "orders", description = "Orders through their lifecycle: payment, shipping, delivery, cancel, return"),
        (name = "queue", description = "The waiting room in front of a drop: places, passes, events and numbers"),
        (name = "reviews", description = "Product reviews by buyers and testers, and their statistics kept as counters"),
        (name = "settlements", description = "What sellers are owed per business day, and payouts"),
        (name = "stats", description = "Sellers' statistics per day, drop, product and trial, and charts of them"),
        (name = "raffles", description = "Raffle drops: entries, a draw anyone can verify (commit and reveal), winners who buy in turn within claim windows"),
        (name = "trials", description = "Trial campaigns: slots claimed first come, first served, testers and their reviews' deadlines"),
        (name = "notifications", description = "The inbox, its live stream and settings, sellers' Slack webhooks, and failed deliveries for admins"),
        (name = "wishlist", description = "Products a buyer wants, apart from the cart, and the alerts of their drops and time sales"),
        (name = "admin", description = "Operator tasks for admins: bulk import of accounts"),
    )
)]
pub(crate) struct ApiDoc;

/// The `bearer` security scheme: an access token from `/api/v1/auth/login`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
    }
}

/// `/openapi.json`: the document generated from the handlers' annotations.
#[expect(
    clippy::expect_used,
    reason = "a generated OpenAPI document always serialises"
)]
pub(crate) fn serve(openapi: OpenApi) -> Router<AppState> {
    let json = openapi
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    Router::new().route(
        "/openapi.json",
        get(move || async move { ([("content-type", "application/json")], json.clone()) }),
    )
}
