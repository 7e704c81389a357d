//! An account through the pages: signing up, verifying the address with the mailed code (or a
//! new one), logging in (a browser session over the same throttled login as the API) and out.
//! Every form is posted with its CSRF token and answers as a page: a refusal shows the form
//! again with what went wrong.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
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

#[derive(Debug, Default, Deserialize)]
pub(super) struct LoginQuery {
    verified: Option<String>,
}

pub(super) async fn login_page(viewer: Viewer, Query(query): Query<LoginQuery>) -> Response {
    if viewer.visitor.signed_in.is_some() {
        return see_other("/");
    }
    let note = query.verified.is_some().then(|| viewer.t(Msg::Verified));
    page(
        &viewer,
        viewer.t(Msg::LogIn),
        login_form(&viewer, note, &[]),
    )
}

fn login_form(viewer: &Viewer, note: Option<&str>, problems: &[String]) -> Markup {
    html! {
        h1 { (viewer.t(Msg::LogIn)) }
        @if let Some(note) = note {
            p role="status" { (note) }
        }
        (alerts(problems))
        form.stacked method="post" action="/login" {
            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
            label { (viewer.t(Msg::Email)) input type="email" name="email" required autocomplete="username"; }
            label { (viewer.t(Msg::Password)) input type="password" name="password" required autocomplete="current-password"; }
            button type="submit" { (viewer.t(Msg::LogIn)) }
        }
        p { a href="/signup" { (viewer.t(Msg::SignUp)) } }
    }
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
                let form = |problems: &[String]| login_form(&viewer, None, problems);
                return refused(&viewer, e, form, Msg::LogIn);
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

fn see_other(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// What a refused form shows: its own words for what the pages know, else the error's, and
/// each field's problems.
fn problems(viewer: &Viewer, error: &AppError) -> Vec<String> {
    let mut said = vec![match error.code() {
        ErrorCode::InvalidCredentials => viewer.t(Msg::WrongLogin).to_owned(),
        ErrorCode::RateLimited => viewer.t(Msg::TooManyLogins).to_owned(),
        ErrorCode::InvalidCode => viewer.t(Msg::WrongCode).to_owned(),
        ErrorCode::CodeExpired => viewer.t(Msg::CodeExpired).to_owned(),
        ErrorCode::EmailTaken => viewer.t(Msg::EmailTaken).to_owned(),
        ErrorCode::ValidationFailed => viewer.t(Msg::FixFields).to_owned(),
        _ => error.message().to_owned(),
    }];
    if let Some(fields) = error.details().and_then(|d| d["fields"].as_object()) {
        for (field, messages) in fields {
            for message in messages.as_array().into_iter().flatten() {
                said.push(format!("{field}: {}", message.as_str().unwrap_or_default()));
            }
        }
    }
    said
}

/// A refused form's answer: the form again with its problems, or (a server-side failure) the
/// error page.
fn refused(
    viewer: &Viewer,
    error: AppError,
    form: impl FnOnce(&[String]) -> Markup,
    title: Msg,
) -> Result<Response, super::PageError> {
    let status = crate::error::status_of(error.code());
    if !status.is_client_error() {
        return Err(error).for_viewer(viewer);
    }
    let mut response = page(viewer, viewer.t(title), form(&problems(viewer, &error)));
    *response.status_mut() = status;
    Ok(response)
}

fn alerts(problems: &[String]) -> Markup {
    html! {
        @if !problems.is_empty() {
            ul.problem role="alert" {
                @for problem in problems { li { (problem) } }
            }
        }
    }
}

fn signup_form(viewer: &Viewer, problems: &[String], kept: &SignupForm) -> Markup {
    html! {
        h1 { (viewer.t(Msg::SignUp)) }
        (alerts(problems))
        form.stacked method="post" action="/signup" {
            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
            label { (viewer.t(Msg::Name)) input type="text" name="name" required autocomplete="name" value=(kept.name); }
            label { (viewer.t(Msg::Email)) input type="email" name="email" required autocomplete="email" value=(kept.email); }
            label { (viewer.t(Msg::Password)) input type="password" name="password" required autocomplete="new-password"; }
            fieldset {
                legend { (viewer.t(Msg::AccountType)) }
                label { input type="radio" name="role" value="buyer" checked[kept.role != "seller"]; (viewer.t(Msg::Buyer)) }
                label { input type="radio" name="role" value="seller" checked[kept.role == "seller"]; (viewer.t(Msg::Seller)) }
            }
            button type="submit" { (viewer.t(Msg::SignUp)) }
        }
    }
}

pub(super) async fn signup_page(viewer: Viewer) -> Response {
    if viewer.visitor.signed_in.is_some() {
        return see_other("/");
    }
    page(
        &viewer,
        viewer.t(Msg::SignUp),
        signup_form(&viewer, &[], &SignupForm::default()),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SignupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

pub(super) async fn sign_up(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    Form(form): Form<SignupForm>,
) -> Result<Response, super::PageError> {
    if !viewer.visitor.posted(&state, &form.csrf) {
        return Err(AppError::forbidden()).for_viewer(&viewer);
    }
    let role = (!form.role.is_empty()).then_some(form.role.as_str());
    match identity::sign_up(&state, ip, &form.email, &form.password, &form.name, role).await {
        Ok(user) => {
            let query =
                serde_urlencoded::to_string([("email", user.email.as_str())]).unwrap_or_default();
            Ok(see_other(&format!("/verify?{query}")))
        }
        Err(e) => refused(
            &viewer,
            e,
            |problems| signup_form(&viewer, problems, &form),
            Msg::SignUp,
        ),
    }
}

fn verify_form(viewer: &Viewer, problems: &[String], email: &str, note: Option<&str>) -> Markup {
    html! {
        h1 { (viewer.t(Msg::Verify)) }
        p role="status" { (note.unwrap_or(viewer.t(Msg::CodeSent))) }
        (alerts(problems))
        form.stacked method="post" action="/verify" {
            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
            label { (viewer.t(Msg::Email)) input type="email" name="email" required autocomplete="email" value=(email); }
            label { (viewer.t(Msg::Code)) input type="text" name="code" required inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"; }
            button type="submit" { (viewer.t(Msg::Verify)) }
        }
        form.inline method="post" action="/verify/resend" {
            input type="hidden" name="csrf" value=(viewer.visitor.form_token);
            input type="hidden" name="email" value=(email);
            button type="submit" { (viewer.t(Msg::Resend)) }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct VerifyQuery {
    #[serde(default)]
    email: String,
}

pub(super) async fn verify_page(viewer: Viewer, Query(query): Query<VerifyQuery>) -> Response {
    page(
        &viewer,
        viewer.t(Msg::Verify),
        verify_form(&viewer, &[], &query.email, None),
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct VerifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    Form(form): Form<VerifyForm>,
) -> Result<Response, super::PageError> {
    if !viewer.visitor.posted(&state, &form.csrf) {
        return Err(AppError::forbidden()).for_viewer(&viewer);
    }
    match identity::verify_email(&state, ip, &form.email, &form.code).await {
        Ok(_) => Ok(see_other("/login?verified=1")),
        Err(e) => refused(
            &viewer,
            e,
            |problems| verify_form(&viewer, problems, &form.email, None),
            Msg::Verify,
        ),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ResendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub(super) async fn resend(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    Form(form): Form<ResendForm>,
) -> Result<Response, super::PageError> {
    if !viewer.visitor.posted(&state, &form.csrf) {
        return Err(AppError::forbidden()).for_viewer(&viewer);
    }
    match identity::resend_code(&state, ip, &form.email).await {
        Ok(()) => Ok(page(
            &viewer,
            viewer.t(Msg::Verify),
            verify_form(&viewer, &[], &form.email, Some(viewer.t(Msg::CodeResent))),
        )),
        Err(e) => refused(
            &viewer,
            e,
            |problems| verify_form(&viewer, problems, &form.email, None),
            Msg::Verify,
        ),
    }
}
