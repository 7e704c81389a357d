//! The storefront's pages, rendered on the server with `maud` (the templates compile into the
//! binary) from the application layer, never through the HTTP API. Every page carries the
//! security headers below; the stylesheet is served under a name holding its content's hash, so
//! it is cached for a year and a new build's is fetched at once; so is the one script, an
//! enhancement every page works without.

mod account;
mod drop;
mod locale;
mod orders;
mod seller;
mod session;
mod storefront;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use rushline_app::{AppError, ErrorCode};
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

use self::locale::{LANG_COOKIE, Msg, Viewer};
use crate::AppState;

/// A file the pages load, served under a name that holds its content's hash.
struct Asset {
    /// `app.<first 16 hex digits of its SHA-256>.<extension>`.
    name: String,
    content_type: &'static str,
    body: &'static str,
}

impl Asset {
    fn new(extension: &str, content_type: &'static str, body: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        Self {
            name: format!("app.{}.{extension}", &hex::encode(digest)[..16]),
            content_type,
            body,
        }
    }
}

static STYLESHEET: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    )
});
/// An enhancement only: it sets the `tz` cookie and counts down to openings.
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    )
});

/// No inline script or style, nothing from another origin, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    Router::new()
        .route("/", get(storefront::home))
        .route("/products", get(storefront::products))
        .route("/products/{id}", get(storefront::product))
        .route("/login", get(account::login_page).post(account::log_in))
        .route("/logout", post(account::log_out))
        .route("/signup", get(account::signup_page).post(account::sign_up))
        .route("/verify", get(account::verify_page).post(account::verify))
        .route("/verify/resend", post(account::resend))
        .route("/orders", get(orders::list))
        .route("/orders/{id}/pay", post(orders::pay))
        .route("/orders/{id}/cancel", post(orders::cancel))
        .route("/seller", get(seller::console))
        .route("/seller/drops/{id}", get(seller::watch))
        .route("/drops/{id}", get(drop::show))
        .route("/drops/{id}/queue", post(drop::join))
        .route("/drops/{id}/buy", post(drop::buy))
        .route("/drops/{id}/events", get(drop::events))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            session::visitor,
        ))
        .route("/assets/{name}", get(asset))
        .layer(header("content-security-policy", CONTENT_SECURITY_POLICY))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("referrer-policy", "strict-origin-when-cross-origin"))
        .layer(header("x-content-type-options", "nosniff"))
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = [&*STYLESHEET, &*SCRIPT]
        .into_iter()
        .find(|a| a.name == name)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (CONTENT_TYPE, asset.content_type),
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.body,
    )
        .into_response()
}

/// A whole page: the site's header and footer around `content`, in the viewer's language.
fn page(viewer: &Viewer, title: &str, content: Markup) -> Response {
    let other = match viewer.lang.code() {
        "ko" => "en",
        _ => "ko",
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(viewer.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rushline" }
                link rel="stylesheet" href={ "/assets/" (STYLESHEET.name) };
                script src={ "/assets/" (SCRIPT.name) } defer {}
            }
            body {
                a.skip href="#content" { (viewer.t(Msg::SkipToContent)) }
                header.site {
                    a.brand href="/" { "rushline" }
                    nav aria-label="site" {
                        a href="/" { (viewer.t(Msg::Home)) }
                        a href="/products" { (viewer.t(Msg::Products)) }
                        @if let Some(signed_in) = &viewer.visitor.signed_in {
                            a href="/orders" { (viewer.t(Msg::Orders)) }
                            @if signed_in.user.role != rushline_domain::Role::Buyer {
                                a href="/seller" { (viewer.t(Msg::Console)) }
                            }
                        }
                    }
                    a href={ "?lang=" (other) } hreflang=(other) lang=(other) {
                        (viewer.t(Msg::OtherLanguage))
                    }
                    @if let Some(signed_in) = &viewer.visitor.signed_in {
                        span.who { (signed_in.name) }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
                            button type="submit" { (viewer.t(Msg::LogOut)) }
                        }
                    } @else {
                        a href="/login" { (viewer.t(Msg::LogIn)) }
                    }
                }
                main #content { (content) }
                footer.site {
                    a href="/docs/" { (viewer.t(Msg::ApiReference)) }
                }
            }
        }
    };
    let mut response = markup.into_response();
    if viewer.switched {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            viewer.lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(SET_COOKIE, value);
        }
    }
    response
}

/// A page's failure, shown as a page in the viewer's language with the status of its code.
/// Boxed: a handler's `Result` stays small.
struct PageError(Box<Failure>);

struct Failure {
    viewer: Viewer,
    error: AppError,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let failure = *self.0;
        failure.into_response()
    }
}

impl Failure {
    fn into_response(self) -> Response {
        let status = crate::error::status_of(self.error.code());
        let message = match self.error.code() {
            ErrorCode::NotFound | ErrorCode::InvalidPath => Msg::NotFound,
            ErrorCode::Forbidden => Msg::Forbidden,
            ErrorCode::Unauthorized => Msg::LogInFirst,
            _ if status.is_server_error() => Msg::Unavailable,
            _ => Msg::BadRequest,
        };
        if let Some(cause) = self.error.internal_cause() {
            tracing::error!(code = %self.error.code(), %cause, "page failed");
        }
        let text = self.viewer.t(message);
        let mut response = page(&self.viewer, text, html! { h1 { (text) } });
        *response.status_mut() = status;
        response
    }
}

/// Attaches the viewer to an application error, so that it renders as a page.
trait ForViewer<T> {
    fn for_viewer(self, viewer: &Viewer) -> Result<T, PageError>;
}

impl<T, E: Into<AppError>> ForViewer<T> for Result<T, E> {
    fn for_viewer(self, viewer: &Viewer) -> Result<T, PageError> {
        self.map_err(|e| {
            PageError(Box::new(Failure {
                viewer: viewer.clone(),
                error: e.into(),
            }))
        })
    }
}
