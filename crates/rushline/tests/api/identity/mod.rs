//! Sign-up, verification, login, sessions, the caller's account, role guards and mail.

mod admin;
mod guards;
mod login;
mod mail;
mod me;
mod openapi;
mod sessions;
mod signup;
mod verify;

use axum::http::{Method, StatusCode};
use rushline_testkit::{TestApp, TestResponse};
use serde_json::{Value, json};

pub const PASSWORD: &str = "s3cret!pw";

pub async fn sign_up(app: &TestApp, email: &str) -> TestResponse {
    app.post(
        "/api/v1/auth/signup",
        json!({ "email": email, "password": PASSWORD, "name": "Kim Minji" }),
    )
    .await
}

/// The 6-digit code in a verification mail.
pub fn code_in(mail: &str) -> String {
    let (_, rest) = mail
        .split_once("verification code is ")
        .unwrap_or_else(|| panic!("no code in {mail}"));
    let code: String = rest.chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{mail}");
    code
}

/// Delivers the pending mail and returns the code of the one verification mail to `email`.
pub async fn mailed_code(app: &TestApp, email: &str) -> String {
    let mails = app.deliver_mail_to(email).await;
    assert_eq!(mails.len(), 1, "expected one mail to {email}: {mails:?}");
    code_in(&mails[0])
}

pub async fn verify(app: &TestApp, email: &str, code: &str) -> TestResponse {
    app.post(
        "/api/v1/auth/verify",
        json!({ "email": email, "code": code }),
    )
    .await
}

/// Signs up and verifies `email` with [`PASSWORD`].
pub async fn verified_account(app: &TestApp, email: &str) {
    sign_up(app, email).await.assert_status(StatusCode::CREATED);
    let code = mailed_code(app, email).await;
    verify(app, email, &code)
        .await
        .assert_status(StatusCode::OK);
}

pub async fn log_in(app: &TestApp, email: &str, password: &str) -> TestResponse {
    app.post(
        "/api/v1/auth/login",
        json!({ "email": email, "password": password }),
    )
    .await
}

/// A logged-in session of `email`: `(access token, refresh token)`.
pub async fn session(app: &TestApp, email: &str) -> (String, String) {
    let response = log_in(app, email, PASSWORD).await;
    response.assert_status(StatusCode::OK);
    let body = response.json();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

pub async fn refresh(app: &TestApp, refresh_token: &str) -> TestResponse {
    app.post(
        "/api/v1/auth/refresh",
        json!({ "refresh_token": refresh_token }),
    )
    .await
}

/// A request with `Authorization: Bearer <access_token>`.
pub async fn authorized(
    app: &TestApp,
    method: Method,
    path: &str,
    access_token: &str,
    body: Option<Value>,
) -> TestResponse {
    let bearer = format!("Bearer {access_token}");
    app.send(method, path, body, &[("authorization", bearer.as_str())])
        .await
}
