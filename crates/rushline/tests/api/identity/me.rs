use axum::http::{Method, StatusCode};
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;

use super::{PASSWORD, authorized, log_in, refresh, session, verified_account};

const NEW_PASSWORD: &str = "n3w-secret!";

backend_test! {
    async fn me_shows_and_renames_the_caller(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (access, _) = session(&app, "minji@example.com").await;

        let me = authorized(&app, Method::GET, "/api/v1/me", &access, None).await;
        me.assert_status(StatusCode::OK);
        let profile = me.json();
        assert_eq!(profile["name"], "Kim Minji");
        assert_eq!(profile["role"], "buyer");
        assert_eq!(profile["verified"], true);

        let renamed = authorized(&app, Method::PATCH, "/api/v1/me", &access, Some(json!({ "name": "  Minji Kim " }))).await;
        renamed.assert_status(StatusCode::OK);
        assert_eq!(renamed.json()["name"], "Minji Kim");
        let unchanged = authorized(&app, Method::PATCH, "/api/v1/me", &access, Some(json!({}))).await;
        unchanged.assert_status(StatusCode::OK);
        assert_eq!(unchanged.json()["name"], "Minji Kim");
        assert_eq!(unchanged.json()["email"], "minji@example.com");

        let blank = authorized(&app, Method::PATCH, "/api/v1/me", &access, Some(json!({ "name": " " }))).await;
        blank.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(blank.error_code(), "validation_failed");
        assert_eq!(blank.json()["error"]["details"]["fields"]["name"], json!(["is required"]));

        for (method, body) in [(Method::GET, None), (Method::PATCH, Some(json!({ "name": "X" })))] {
            let anonymous = app.send(method, "/api/v1/me", body, &[]).await;
            anonymous.assert_status(StatusCode::UNAUTHORIZED);
            assert_eq!(anonymous.error_code(), "unauthorized");
        }
    }
}

backend_test! {
    async fn password_change_keeps_this_session_and_revokes_the_others(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (access, this_refresh) = session(&app, "minji@example.com").await;
        let (_, other_refresh) = session(&app, "minji@example.com").await;

        authorized(
            &app,
            Method::POST,
            "/api/v1/me/password",
            &access,
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await
        .assert_status(StatusCode::NO_CONTENT);

        refresh(&app, &other_refresh).await.assert_status(StatusCode::UNAUTHORIZED);
        refresh(&app, &this_refresh).await.assert_status(StatusCode::OK);
        log_in(&app, "minji@example.com", PASSWORD).await.assert_status(StatusCode::UNAUTHORIZED);
        log_in(&app, "minji@example.com", NEW_PASSWORD).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn password_change_checks_both_passwords_and_is_throttled(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (access, _) = session(&app, "minji@example.com").await;
        let change = |current: &str, new: &str| {
            let body = json!({ "current_password": current, "new_password": new });
            authorized(&app, Method::POST, "/api/v1/me/password", &access, Some(body))
        };

        let weak = change(PASSWORD, "weak").await;
        weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(weak.error_code(), "validation_failed");
        assert!(weak.json()["error"]["details"]["fields"]["new_password"].is_array());

        for _ in 0..5 {
            let wrong = change("wr0ng!pass", NEW_PASSWORD).await;
            wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(
                wrong.json()["error"]["details"]["fields"]["current_password"],
                json!(["is not your password"])
            );
        }
        let throttled = change(PASSWORD, NEW_PASSWORD).await;
        throttled.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.error_code(), "rate_limited");
        log_in(&app, "minji@example.com", PASSWORD)
            .await
            .assert_status(StatusCode::TOO_MANY_REQUESTS);

        let anonymous = app
            .post("/api/v1/me/password", json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }))
            .await;
        anonymous.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.error_code(), "unauthorized");
    }
}
