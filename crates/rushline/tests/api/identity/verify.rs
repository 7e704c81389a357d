use axum::http::StatusCode;
use chrono::Duration;
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;

use super::{code_in, mailed_code, sign_up, verified_account, verify};

/// A code that is not `code`.
fn other_than(code: &str) -> String {
    let first = if code.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &code[1..])
}

backend_test! {
    async fn verify_refuses_a_wrong_code_and_unknown_addresses(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        let code = mailed_code(&app, "minji@example.com").await;

        let wrong = verify(&app, "minji@example.com", &other_than(&code)).await;
        wrong.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(wrong.error_code(), "invalid_code");
        let nobody = verify(&app, "nobody@example.com", &code).await;
        nobody.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(nobody.error_code(), "invalid_code");

        verify(&app, "minji@example.com", &code).await.assert_status(StatusCode::OK);
        // Again, e.g. a retried request: still fine.
        verify(&app, "minji@example.com", &code).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn a_verified_account_is_not_disclosed_to_a_wrong_code(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        for code in ["000000", "", "999999"] {
            let guess = verify(&app, "minji@example.com", code).await;
            guess.assert_status(StatusCode::BAD_REQUEST);
            assert_eq!(guess.error_code(), "invalid_code");
            assert!(!guess.text().contains("Kim"), "{}", guess.text());
        }
    }
}

backend_test! {
    async fn verify_and_resend_refuse_an_address_with_control_characters(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        let code = mailed_code(&app, "minji@example.com").await;
        let email = "minji@example.com\u{0}";
        let verified = verify(&app, email, &code).await;
        let resent = app.post("/api/v1/auth/resend", json!({"email": email})).await;
        for response in [verified, resent] {
            response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(response.error_code(), "validation_failed");
            assert_eq!(
                response.json()["error"]["details"]["fields"]["email"],
                json!(["must not contain control characters"])
            );
        }
    }
}

backend_test! {
    async fn verify_code_dies_after_five_wrong_tries(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        let code = mailed_code(&app, "minji@example.com").await;
        for _ in 0..5 {
            let wrong = verify(&app, "minji@example.com", &other_than(&code)).await;
            wrong.assert_status(StatusCode::BAD_REQUEST);
            assert_eq!(wrong.error_code(), "invalid_code");
        }
        let late = verify(&app, "minji@example.com", &code).await;
        late.assert_status(StatusCode::GONE);
        assert_eq!(late.error_code(), "code_expired");
    }
}

backend_test! {
    async fn verify_code_expires_after_five_minutes_and_a_resend_replaces_it(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        let code = mailed_code(&app, "minji@example.com").await;
        app.clock.advance(Duration::minutes(5));
        let expired = verify(&app, "minji@example.com", &code).await;
        expired.assert_status(StatusCode::GONE);
        assert_eq!(expired.error_code(), "code_expired");

        app.post("/api/v1/auth/resend", json!({ "email": "minji@example.com" }))
            .await
            .assert_status(StatusCode::ACCEPTED);
        let fresh = mailed_code(&app, "minji@example.com").await;
        verify(&app, "minji@example.com", &fresh).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn resend_within_a_minute_is_rate_limited(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        let first = mailed_code(&app, "minji@example.com").await;
        let resend = || app.post("/api/v1/auth/resend", json!({ "email": "Minji@example.com" }));

        let early = resend().await;
        early.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(early.error_code(), "rate_limited");
        assert_eq!(early.headers["retry-after"], "60");
        app.clock.advance(Duration::seconds(59));
        let still = resend().await;
        still.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(still.headers["retry-after"], "1");
        assert!(app.deliver_mail_to("minji@example.com").await.is_empty(), "a refused resend mailed");

        app.clock.advance(Duration::seconds(1));
        resend().await.assert_status(StatusCode::ACCEPTED);
        let mails = app.deliver_mail_to("minji@example.com").await;
        assert_eq!(mails.len(), 1);
        let second = code_in(&mails[0]);
        if second != first {
            let replaced = verify(&app, "minji@example.com", &first).await;
            replaced.assert_status(StatusCode::BAD_REQUEST);
            assert_eq!(replaced.error_code(), "invalid_code");
        }
        verify(&app, "minji@example.com", &second).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn resend_accepts_unknown_and_verified_addresses_without_mailing(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        app.clock.advance(Duration::minutes(2));
        for email in ["minji@example.com", "nobody@example.com"] {
            app.post("/api/v1/auth/resend", json!({ "email": email }))
                .await
                .assert_status(StatusCode::ACCEPTED);
            assert!(app.deliver_mail_to(email).await.is_empty(), "{email}");
        }
    }
}
