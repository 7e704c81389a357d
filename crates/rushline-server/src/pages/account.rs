//! Logging in and out of the pages: a login form (posted with its CSRF token) that opens a
//! browser session through the same throttled login as the API, and a logout that ends it.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use maud::{Markup, html};
use rushline_app::{AppError, ErrorCode, identity};
use serde::Deserialize;

use super::locale::{Msg, Viewer};
use super::session::{
    DEVICE_COOKIE, DEVICE_MAX_AGE, REFRESH_COOKIE, SESSION_COOKIE, cookie, set_cookie,
};
use super::{ForViewer, page};
use crate::{AppState, ClientIp};

pub(super) async fn login_page(viewer: Viewer) -> Response {
    if viewer.visitor.signed_in.is_some() {
        return see_other("/");
    }
    login_form(&viewer, None, StatusCode::OK)
}

fn login_form(viewer: &Viewer, problem: Option<&str>, status: StatusCode) -> Response {
    let content: Markup = html! {
        h1 { (viewer.t(Msg::LogIn)) }
        @if let Some(problem) = problem {
            p.problem role="alert" { (problem) }
        }
        form.stacked method="post" action="/login" {
            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
            label { (viewer.t(Msg::Email)) input type="email" name="email" required autocomplete="username"; }
            label { (viewer.t(Msg::Password)) input type="password" name="password" required autocomplete="current-password"; }
            button type="submit" { (viewer.t(Msg::LogIn)) }
        }
    };
    let mut response = page(viewer, viewer.t(Msg::LogIn), content);
    *response.status_mut() = status;
    response
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn log_in(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, super::PageError> {
    if !viewer.visitor.posted(&state, &form.csrf) {
        return Err(AppError::forbidden()).for_viewer(&viewer);
    }
    let device = cookie(&headers, DEVICE_COOKIE);
    let login =
        match identity::log_in_browser(&state, &form.email, &form.password, device, ip).await {
            Ok(login) => login,
            Err(e) => {
                let status = crate::error::status_of(e.code());
                let problem = match e.code() {
                    ErrorCode::InvalidCredentials | ErrorCode::ValidationFailed => {
                        viewer.t(Msg::WrongLogin)
                    }
                    ErrorCode::RateLimited => viewer.t(Msg::TooManyLogins),
                    _ if status.is_client_error() => e.message(),
                    _ => return Err(e).for_viewer(&viewer),
                };
                return Ok(login_form(&viewer, Some(problem), status));
            }
        };
    let secure = viewer.visitor.secure;
    let mut response = see_other("/");
    let cookies = [
        (SESSION_COOKIE, Some(login.session_cookie), login.max_age),
        (REFRESH_COOKIE, Some(login.refresh_token), login.max_age),
        (DEVICE_COOKIE, login.device_token, DEVICE_MAX_AGE),
    ];
    for (name, value, max_age) in cookies {
        if let Some(header) = value.and_then(|value| set_cookie(name, &value, max_age, secure)) {
            response.headers_mut().append(SET_COOKIE, header);
        }
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(super) struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn log_out(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, super::PageError> {
    if !viewer.visitor.posted(&state, &form.csrf) {
        return Err(AppError::forbidden()).for_viewer(&viewer);
    }
    if let Some(refresh) = cookie(&headers, REFRESH_COOKIE) {
        identity::log_out(&state, refresh)
            .await
            .for_viewer(&viewer)?;
    }
    let mut response = see_other("/");
    for name in [SESSION_COOKIE, REFRESH_COOKIE] {
        if let Some(header) = set_cookie(name, "", TimeDelta::zero(), viewer.visitor.secure) {
            response.headers_mut().append(SET_COOKIE, header);
        }
    }
    Ok(response)
}

fn see_other(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}
