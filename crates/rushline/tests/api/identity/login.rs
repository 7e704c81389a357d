use std::net::IpAddr;

use axum::http::{Method, StatusCode};
use chrono::Duration;
use rushline_domain::Clock;
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;

use super::{PASSWORD, authorized, log_in, sign_up, verified_account};

backend_test! {
    async fn login_hands_out_a_token_pair_whatever_the_email_case(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let response = log_in(&app, " MINJI@Example.com", PASSWORD).await;
        response.assert_status(StatusCode::OK);
        let body = response.json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900);
        assert_eq!(body["refresh_token"].as_str().unwrap().len(), 64);

        let access = body["access_token"].as_str().unwrap();
        let claims = app.state().tokens.verify(access, app.clock.now()).unwrap();
        assert_eq!(claims.role, rushline_domain::Role::Buyer);
        assert_eq!(claims.exp - claims.iat, 900);
        assert!(claims.sid.is_some());
        let me = authorized(&app, Method::GET, "/api/v1/me", access, None).await;
        me.assert_status(StatusCode::OK);
        assert_eq!(me.json()["email"], "minji@example.com");
        assert_eq!(me.json()["id"], claims.sub.to_string());
    }
}

backend_test! {
    async fn login_is_refused_until_the_email_is_verified(backend: Backend) {
        let app = TestApp::new(backend).await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        let unverified = log_in(&app, "minji@example.com", PASSWORD).await;
        unverified.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(unverified.error_code(), "email_unverified");
        // Only the right password learns that the account is unverified.
        let wrong = log_in(&app, "minji@example.com", "wr0ng!pass").await;
        wrong.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.error_code(), "invalid_credentials");
    }
}

backend_test! {
    async fn login_answers_a_wrong_password_and_an_unknown_email_alike(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let wrong_password = log_in(&app, "minji@example.com", "wr0ng!pass").await;
        let unknown_email = log_in(&app, "nobody@example.com", PASSWORD).await;
        wrong_password.assert_status(StatusCode::UNAUTHORIZED);
        unknown_email.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_password.error_code(), "invalid_credentials");
        assert_eq!(wrong_password.json(), unknown_email.json());
    }
}

backend_test! {
    async fn login_answers_an_address_with_control_characters_like_an_unknown_one(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let unknown_email = log_in(&app, "nobody@example.com", PASSWORD).await;
        for email in ["minji\u{0}@example.com", "minji@example.com\u{0}x", "mi\u{7}nji@example.com"] {
            let response = log_in(&app, email, PASSWORD).await;
            response.assert_status(StatusCode::UNAUTHORIZED);
            assert_eq!(response.json(), unknown_email.json(), "{email:?}");
        }
    }
}

backend_test! {
    async fn login_throttles_an_account_after_five_failures_in_fifteen_minutes(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        verified_account(&app, "jisoo@example.com").await;
        for _ in 0..5 {
            log_in(&app, "minji@example.com", "wr0ng!pass").await.assert_status(StatusCode::UNAUTHORIZED);
        }
        // Even the right password waits: the throttle answers before any password is checked.
        for password in ["wr0ng!pass", PASSWORD] {
            let throttled = log_in(&app, "Minji@example.com", password).await;
            throttled.assert_status(StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(throttled.error_code(), "rate_limited");
            assert_eq!(throttled.headers["retry-after"], "900");
        }
        // Other accounts from the same address are not affected.
        log_in(&app, "jisoo@example.com", PASSWORD).await.assert_status(StatusCode::OK);

        app.clock.advance(Duration::minutes(15) - Duration::seconds(1));
        let throttled = log_in(&app, "minji@example.com", PASSWORD).await;
        throttled.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.headers["retry-after"], "1");
        app.clock.advance(Duration::seconds(1));
        log_in(&app, "minji@example.com", PASSWORD).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn a_guesser_at_one_address_never_locks_the_owner_out_from_another(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let login = |from: IpAddr, password: &'static str| {
            let app = &app;
            async move {
                app.post_from(from, "/api/v1/auth/login", json!({ "email": "minji@example.com", "password": password }))
                    .await
            }
        };
        let attacker: IpAddr = "203.0.113.7".parse().unwrap();
        let owner: IpAddr = "198.51.100.20".parse().unwrap();
        // The attacker keeps failing, window after window…
        for _ in 0..3 {
            for _ in 0..5 {
                login(attacker, "wr0ng!pass").await.assert_status(StatusCode::UNAUTHORIZED);
            }
            login(attacker, PASSWORD).await.assert_status(StatusCode::TOO_MANY_REQUESTS);
            // …and the owner, at another address, gets in every time.
            login(owner, PASSWORD).await.assert_status(StatusCode::OK);
            app.clock.advance(Duration::minutes(15));
        }
    }
}

backend_test! {
    async fn guesses_spread_over_many_addresses_are_held_to_the_account_wide_limit(backend: Backend) {
        let app = TestApp::builder(backend)
            .config(|c| c.auth.login_failures_per_account_everywhere = 8)
            .build()
            .await;
        verified_account(&app, "minji@example.com").await;
        let login = |n: u8, password: &'static str| {
            let app = &app;
            async move {
                app.post_from(IpAddr::from([203, 0, 113, n]), "/api/v1/auth/login", json!({ "email": "minji@example.com", "password": password }))
                    .await
            }
        };
        for n in 0..8 {
            login(n, "wr0ng!pass").await.assert_status(StatusCode::UNAUTHORIZED);
        }
        let throttled = login(100, "wr0ng!pass").await;
        throttled.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.headers["retry-after"], "900");
    }
}

backend_test! {
    async fn a_device_that_logged_in_before_gets_in_while_guesses_from_everywhere_hold_the_account(backend: Backend) {
        let app = TestApp::builder(backend)
            .config(|c| c.auth.login_failures_per_account_everywhere = 8)
            .build()
            .await;
        verified_account(&app, "minji@example.com").await;
        verified_account(&app, "jisoo@example.com").await;
        let login = |from: IpAddr, email: &'static str, password: &'static str, device: Option<String>| {
            let app = &app;
            async move {
                app.post_from(from, "/api/v1/auth/login", json!({ "email": email, "password": password, "device_token": device }))
                    .await
            }
        };
        let home: IpAddr = "198.51.100.20".parse().unwrap();
        let first = login(home, "minji@example.com", PASSWORD, None).await;
        first.assert_status(StatusCode::OK);
        let device = first.json()["device_token"].as_str().unwrap().to_owned();
        let jisoos = login(home, "jisoo@example.com", PASSWORD, None).await.json()["device_token"].as_str().unwrap().to_owned();

        // Guesses spread over many addresses fill the account-wide window…
        for n in 0..8 {
            login(IpAddr::from([203, 0, 113, n]), "minji@example.com", "wr0ng!pass", None).await.assert_status(StatusCode::UNAUTHORIZED);
        }
        // …which holds every client without a device token of this account, the owner on a new
        // one included, and a token of another account changes nothing…
        let cafe: IpAddr = "192.0.2.44".parse().unwrap();
        login(cafe, "minji@example.com", PASSWORD, None).await.assert_status(StatusCode::TOO_MANY_REQUESTS);
        login(cafe, "minji@example.com", PASSWORD, Some(jisoos)).await.assert_status(StatusCode::TOO_MANY_REQUESTS);
        login(cafe, "minji@example.com", PASSWORD, Some("not.a.token".to_owned())).await.assert_status(StatusCode::TOO_MANY_REQUESTS);
        // …but the owner's device gets in, from wherever it is.
        login(cafe, "minji@example.com", PASSWORD, Some(device.clone())).await.assert_status(StatusCode::OK);

        // A stolen device token is no way around the limit: it has five failures of its own.
        for _ in 0..5 {
            login(cafe, "minji@example.com", "wr0ng!pass", Some(device.clone())).await.assert_status(StatusCode::UNAUTHORIZED);
        }
        login(home, "minji@example.com", PASSWORD, Some(device)).await.assert_status(StatusCode::TOO_MANY_REQUESTS);
    }
}

backend_test! {
    async fn login_throttles_an_address_after_twenty_failures(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        let attacker: IpAddr = "203.0.113.7".parse().unwrap();
        let neighbour: IpAddr = "198.51.100.20".parse().unwrap();
        let attempt = |from: IpAddr, email: String, password: &'static str| {
            let app = &app;
            async move {
                app.post_from(from, "/api/v1/auth/login", json!({ "email": email, "password": password }))
                    .await
            }
        };
        // Four guesses at each of five addresses: no account reaches its own limit.
        for i in 0..20 {
            attempt(attacker, format!("victim{}@example.com", i % 5), PASSWORD)
                .await
                .assert_status(StatusCode::UNAUTHORIZED);
        }
        let throttled = attempt(attacker, "minji@example.com".into(), PASSWORD).await;
        throttled.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.headers["retry-after"], "900");
        attempt(neighbour, "minji@example.com".into(), PASSWORD)
            .await
            .assert_status(StatusCode::OK);
        app.clock.advance(Duration::minutes(15));
        attempt(attacker, "minji@example.com".into(), PASSWORD)
            .await
            .assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn successful_logins_do_not_count_as_failures(backend: Backend) {
        let app = TestApp::new(backend).await;
        verified_account(&app, "minji@example.com").await;
        for _ in 0..25 {
            log_in(&app, "minji@example.com", PASSWORD).await.assert_status(StatusCode::OK);
        }
        for _ in 0..4 {
            log_in(&app, "minji@example.com", "wr0ng!pass").await.assert_status(StatusCode::UNAUTHORIZED);
        }
        log_in(&app, "minji@example.com", PASSWORD).await.assert_status(StatusCode::OK);
        log_in(&app, "minji@example.com", "wr0ng!pass").await.assert_status(StatusCode::UNAUTHORIZED);
        log_in(&app, "minji@example.com", PASSWORD)
            .await
            .assert_status(StatusCode::TOO_MANY_REQUESTS);
    }
}

backend_test! {
    async fn login_throttle_is_shared_by_every_node(backend: Backend) {
        let a = TestApp::new(backend).await;
        verified_account(&a, "minji@example.com").await;
        let b = a.another_node().build().await;
        for node in [&a, &b, &a, &b, &a] {
            log_in(node, "minji@example.com", "wr0ng!pass").await.assert_status(StatusCode::UNAUTHORIZED);
        }
        // One node's counts are its own in process; Redis counts for all of them.
        let expected = if b.node.config.redis.url.is_some() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNAUTHORIZED
        };
        log_in(&b, "minji@example.com", "wr0ng!pass").await.assert_status(expected);
    }
}
