use axum::http::{Method, StatusCode};
use chrono::Duration;
use rushline_domain::Clock;
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;

use super::{authorized, refresh, session, verified_account};

backend_test! {
    async fn refresh_rotates_the_pair_and_spends_the_old_token(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (access, first) = session(&app, "minji@example.com").await;
        let session_id = app.state().tokens.verify(&access, app.clock.now()).unwrap().sid;

        app.clock.advance(Duration::minutes(10));
        let rotated = refresh(&app, &first).await;
        rotated.assert_status(StatusCode::OK);
        let body = rotated.json();
        let second = body["refresh_token"].as_str().unwrap();
        assert_ne!(second, first);
        assert_eq!(body["token_type"], "Bearer");
        let new_access = body["access_token"].as_str().unwrap();
        let claims = app.state().tokens.verify(new_access, app.clock.now()).unwrap();
        assert_eq!(claims.sid, session_id, "a refresh stays in its login session");
        authorized(&app, Method::GET, "/api/v1/me", new_access, None)
            .await
            .assert_status(StatusCode::OK);
        refresh(&app, second).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn a_replayed_refresh_token_revokes_its_whole_session(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (_, stolen) = session(&app, "minji@example.com").await;
        let (_, other_device) = session(&app, "minji@example.com").await;
        let rotated = refresh(&app, &stolen).await;
        rotated.assert_status(StatusCode::OK);
        let current = rotated.json()["refresh_token"].as_str().unwrap().to_owned();

        let replay = refresh(&app, &stolen).await;
        replay.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(replay.error_code(), "unauthorized");
        let after = refresh(&app, &current).await;
        after.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(after.error_code(), "unauthorized");
        // Another login of the same account is another session.
        refresh(&app, &other_device).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn refresh_tokens_live_fourteen_days_and_each_refresh_restarts_the_count(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (_, first) = session(&app, "minji@example.com").await;
        let (_, idle) = session(&app, "minji@example.com").await;
        app.clock.advance(Duration::days(13));
        let rotated = refresh(&app, &first).await;
        rotated.assert_status(StatusCode::OK);
        let second = rotated.json()["refresh_token"].as_str().unwrap().to_owned();

        app.clock.advance(Duration::days(1));
        let expired = refresh(&app, &idle).await;
        expired.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(expired.error_code(), "unauthorized");
        refresh(&app, &second).await.assert_status(StatusCode::OK);
        refresh(&app, "no-such-token").await.assert_status(StatusCode::UNAUTHORIZED);
    }
}

backend_test! {
    async fn access_tokens_expire_after_fifteen_minutes(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (access, refresh_token) = session(&app, "minji@example.com").await;
        app.clock.advance(Duration::minutes(15));
        let expired = authorized(&app, Method::GET, "/api/v1/me", &access, None).await;
        expired.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(expired.error_code(), "unauthorized");
        let renewed = refresh(&app, &refresh_token).await;
        renewed.assert_status(StatusCode::OK);
        let access = renewed.json()["access_token"].as_str().unwrap().to_owned();
        authorized(&app, Method::GET, "/api/v1/me", &access, None)
            .await
            .assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn logout_ends_the_session(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let (_, refresh_token) = session(&app, "minji@example.com").await;
        let (_, other) = session(&app, "minji@example.com").await;
        let logout = |token: &str| app.post("/api/v1/auth/logout", json!({ "refresh_token": token }));
        let response = logout(&refresh_token).await;
        response.assert_status(StatusCode::NO_CONTENT);
        assert!(response.body.is_empty());
        refresh(&app, &refresh_token).await.assert_status(StatusCode::UNAUTHORIZED);
        logout(&refresh_token).await.assert_status(StatusCode::NO_CONTENT);
        logout("no-such-token").await.assert_status(StatusCode::NO_CONTENT);
        refresh(&app, &other).await.assert_status(StatusCode::OK);
    }
}
