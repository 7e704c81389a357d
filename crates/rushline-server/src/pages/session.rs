//! Who is looking at a page, and the forms they may post.
//!
//! A signed-in browser holds its login session in an HttpOnly, SameSite=Lax cookie
//! (`rl_session`, see `identity::log_in_browser`), checked against the store on every page; the
//! session's refresh token (`rl_refresh`) is kept only to end it at logout. Every browser also
//! gets a random `rl_browser` id. Each form carries a CSRF token signed with the deployment's
//! secret and bound to the login session, or before a login to the browser id: a page of another
//! site can neither read one nor make one, and a token taken from another session is refused.

use axum::extract::{Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use chrono::TimeDelta;
use rushline_app::identity;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;

pub(super) const SESSION_COOKIE: &str = "rl_session";
pub(super) const REFRESH_COOKIE: &str = "rl_refresh";
pub(super) const DEVICE_COOKIE: &str = "rl_device";
const BROWSER_COOKIE: &str = "rl_browser";
/// How long a device token is kept: as long as it is honoured.
pub(super) const DEVICE_MAX_AGE: TimeDelta = TimeDelta::days(90);
const BROWSER_MAX_AGE: TimeDelta = TimeDelta::days(365);

/// The viewer of a page as the session layer found them.
#[derive(Debug, Clone, Default)]
pub(super) struct Visitor {
    pub(super) signed_in: Option<SignedIn>,
    /// What this viewer's forms are bound to.
    bind: String,
    /// The CSRF token every form of the page carries.
    pub(super) form_token: String,
    /// Whether the request came over HTTPS (a proxy says so): cookies are then `Secure`.
    pub(super) secure: bool,
}

#[derive(Debug, Clone)]
pub(super) struct SignedIn {
    pub(super) user: AuthUser,
    pub(super) name: String,
}

impl Visitor {
    /// Whether `token` is this viewer's CSRF token.
    pub(super) fn posted(&self, state: &AppState, token: &str) -> bool {
        !self.bind.is_empty() && state.tokens.verify_form(token, &self.bind)
    }
}

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name && !value.is_empty()).then_some(value)
        })
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, for the whole site; `Secure` over HTTPS. A
/// zero `max_age` deletes the cookie.
pub(super) fn set_cookie(
    name: &str,
    value: &str,
    max_age: TimeDelta,
    secure: bool,
) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.num_seconds()
    ))
    .ok()
}

/// Finds the viewer of every page request and leaves a [`Visitor`] in its extensions; sets the
/// browser id on a first visit, and drops the session cookies of a session that ended.
pub(super) async fn visitor(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
    let session_cookie = cookie(headers, SESSION_COOKIE).map(str::to_owned);
    let known_browser = cookie(headers, BROWSER_COOKIE)
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    // `Err`: the store could not say. The page renders signed out, but the cookie stays for the
    // next page to ask again: a blip of the database logs nobody out.
    let session = match &session_cookie {
        Some(value) => identity::browser_session(&state, value).await,
        None => Ok(None),
    };
    let ended = matches!(session, Ok(None)) && session_cookie.is_some();
    let session = session.unwrap_or_else(|e| {
        tracing::warn!(error = ?e, "could not read a browser's session");
        None
    });
    let browser = known_browser
        .clone()
        .unwrap_or_else(|| Uuid::new_v4().simple().to_string());
    let bind = match &session {
        Some((_, session)) => format!("session:{session}"),
        None => format!("browser:{browser}"),
    };
    let visitor = Visitor {
        signed_in: session.map(|(user, _)| SignedIn {
            user: AuthUser {
                id: user.id,
                role: user.role,
            },
            name: user.name,
        }),
        form_token: state.tokens.issue_form(&bind),
        bind,
        secure,
    };
    request.extensions_mut().insert(visitor);
    let mut response = next.run(request).await;
    let cookies = response.headers_mut();
    if known_browser.is_none()
        && let Some(value) = set_cookie(BROWSER_COOKIE, &browser, BROWSER_MAX_AGE, secure)
    {
        cookies.append(SET_COOKIE, value);
    }
    // Unless the page just set a new session (a login over a stale cookie).
    let renewed = cookies
        .get_all(SET_COOKIE)
        .iter()
        .any(|value| value.as_bytes().starts_with(SESSION_COOKIE.as_bytes()));
    if ended && !renewed {
        for name in [SESSION_COOKIE, REFRESH_COOKIE] {
            if let Some(value) = set_cookie(name, "", TimeDelta::zero(), secure) {
                cookies.append(SET_COOKIE, value);
            }
        }
    }
    response
}
