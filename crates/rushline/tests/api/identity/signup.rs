use std::net::IpAddr;

use axum::http::StatusCode;
use rushline_store::JobStatus;
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;

use super::{PASSWORD, code_in, sign_up, verify};

backend_test! {
    async fn signup_creates_an_unverified_account_and_mails_its_code_from_a_job(backend: Backend) {
        let app = TestApp::new(backend).await;
        let response = app
            .post(
                "/api/v1/auth/signup",
                json!({
                    "email": "  Minji@Example.COM ",
                    "password": PASSWORD,
                    "name": "  Kim Minji ",
                    "role": "seller",
                }),
            )
            .await;
        response.assert_status(StatusCode::CREATED);
        let body = response.json();
        assert_eq!(body["email"], "minji@example.com");
        assert_eq!(body["name"], "Kim Minji");
        assert_eq!(body["role"], "seller");
        assert_eq!(body["verified"], false);
        assert!(body["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok(), "{body}");

        // The request only enqueued the mail; a job sends it.
        let queued = app.state().store.list_jobs(Some(JobStatus::Queued), 10).await.unwrap();
        assert_eq!(queued.iter().filter(|j| j.kind == "send_mail").count(), 1);
        assert!(!app.node.config.data_dir.join("mail").exists());

        let mails = app.deliver_mail_to("minji@example.com").await;
        assert_eq!(mails.len(), 1);
        let code = code_in(&mails[0]);
        assert!(mails[0].contains(&format!("Subject: Your rushline code: {code}")), "{}", mails[0]);
        assert!(mails[0].contains("From: rushline <noreply@rushline.localhost>"), "{}", mails[0]);
        // Delivered: the code no longer sits in the job table.
        let done = app.state().store.list_jobs(Some(JobStatus::Done), 100).await.unwrap();
        let sent = done.iter().find(|j| j.kind == "send_mail").expect("the mail job is done");
        assert_eq!(sent.payload["to"], "minji@example.com");
        assert!(!sent.payload.to_string().contains(&code), "{}", sent.payload);
        let verified = verify(&app, "MINJI@example.com", &code).await;
        verified.assert_status(StatusCode::OK);
        assert_eq!(verified.json()["verified"], true);
    }
}

backend_test! {
    async fn signup_makes_buyers_unless_told_otherwise(backend: Backend) {
        let app = TestApp::new(backend).await;
        let response = sign_up(&app, "buyer@example.com").await;
        response.assert_status(StatusCode::CREATED);
        assert_eq!(response.json()["role"], "buyer");
    }
}

backend_test! {
    async fn signup_refuses_a_taken_email_whatever_its_case(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        let twin = sign_up(&app, " MINJI@example.com").await;
        twin.assert_status(StatusCode::CONFLICT);
        assert_eq!(twin.error_code(), "email_taken");
        assert_eq!(app.deliver_mail_to("minji@example.com").await.len(), 1, "the refused sign-up mailed");
    }
}

backend_test! {
    async fn signup_explains_every_invalid_field(backend: Backend) {
        let app = TestApp::new(backend).await;
        let response = app
            .post(
                "/api/v1/auth/signup",
                json!({ "email": "minji@example", "password": "password", "name": "  ", "role": "admin" }),
            )
            .await;
        response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.error_code(), "validation_failed");
        let fields = &response.json()["error"]["details"]["fields"];
        assert_eq!(fields["email"], json!(["is not a valid e-mail address"]));
        assert_eq!(fields["password"], json!(["must contain a digit", "must contain a symbol"]));
        assert_eq!(fields["name"], json!(["is required"]));
        assert_eq!(fields["role"], json!(["admins are created with `rushline admin create-user`"]));

        let empty = app.post("/api/v1/auth/signup", json!({})).await;
        empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &empty.json()["error"]["details"]["fields"];
        for field in ["email", "password", "name"] {
            assert_eq!(fields[field], json!(["is required"]), "{field}");
        }

        let root = app
            .post(
                "/api/v1/auth/signup",
                json!({ "email": "root@example.com", "password": PASSWORD, "name": "Root", "role": "root" }),
            )
            .await;
        root.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(root.json()["error"]["details"]["fields"]["role"], json!(["must be buyer or seller"]));

        let long = app
            .post(
                "/api/v1/auth/signup",
                json!({ "email": "long@example.com", "password": format!("a1!{}", "x".repeat(62)), "name": "L" }),
            )
            .await;
        long.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            long.json()["error"]["details"]["fields"]["password"],
            json!(["must be 8 to 64 characters long"])
        );
        assert!(app.deliver_mail_to("root@example.com").await.is_empty());
    }
}

backend_test! {
    async fn sign_ups_verifications_and_code_requests_are_throttled_per_address_and_per_email(backend: Backend) {
        let app = TestApp::builder(backend)
            .config(|c| {
                c.auth.account_requests_per_ip = 3;
                c.auth.account_requests_per_email = 2;
            })
            .build()
            .await;
        let ip = |n: u8| IpAddr::from([203, 0, 113, n]);
        let account = |n: u32| json!({"email": format!("buyer{n}@example.com"), "password": PASSWORD, "name": "Kim"});

        for n in 0..3 {
            app.post_from(ip(1), "/api/v1/auth/signup", account(n)).await.assert_status(StatusCode::CREATED);
        }
        let over = app.post_from(ip(1), "/api/v1/auth/signup", account(3)).await;
        over.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(over.error_code(), "rate_limited");
        assert!(over.headers.contains_key("retry-after"));
        // Another address is not held back by the first one's requests.
        app.post_from(ip(2), "/api/v1/auth/signup", account(3)).await.assert_status(StatusCode::CREATED);

        // buyer3 has had one request; a wrong code from a third address is its second, and a
        // code request from a fourth is one too many for the e-mail address, wherever it comes from.
        let wrong = app.post_from(ip(3), "/api/v1/auth/verify", json!({"email": "buyer3@example.com", "code": "000000"})).await;
        assert_eq!(wrong.error_code(), "invalid_code");
        let resend = app.post_from(ip(4), "/api/v1/auth/resend", json!({"email": "BUYER3@example.com"})).await;
        resend.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resend.error_code(), "rate_limited");
    }
}

backend_test! {
    async fn an_account_left_unverified_for_a_week_is_deleted(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        app.advance(chrono::Duration::days(6)).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CONFLICT);
        app.advance(chrono::Duration::days(1) + chrono::Duration::hours(1)).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
    }
}
