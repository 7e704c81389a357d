//! The extractors every handler authenticates with: 401 without a valid token, 403 for a role
//! the route is not for.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use chrono::{Duration, TimeDelta};
use http_body_util::BodyExt;
use rushline_app::identity::AccessTokens;
use rushline_domain::Clock;
use rushline_domain::Role;
use rushline_server::auth::{Admin, AuthUser, Buyer, Seller};
use rushline_testkit::{TestApp, backend_test};
use tower::ServiceExt;

/// Routes guarded by each extractor, on the application's real state.
fn guarded(app: &TestApp) -> Router {
    Router::new()
        .route(
            "/any",
            get(|user: AuthUser| async move { user.id.to_string() }),
        )
        .route(
            "/buyer",
            get(|Buyer(user): Buyer| async move { user.id.to_string() }),
        )
        .route(
            "/seller",
            get(|Seller(user): Seller| async move { user.id.to_string() }),
        )
        .route(
            "/admin",
            get(|Admin(user): Admin| async move { user.id.to_string() }),
        )
        .with_state(app.state().clone())
}

async fn call(router: &Router, path: &str, authorization: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn code(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    json["error"]["code"].as_str().unwrap().to_owned()
}

backend_test! {
    async fn role_guards_answer_401_without_a_valid_token_and_403_for_another_role(backend: Backend) {
        let app = TestApp::new(backend).await;
        let router = guarded(&app);
        let buyer = app.user(Role::Buyer).await;
        let seller = app.user(Role::Seller).await;
        let admin = app.user(Role::Admin).await;

        for (user, allowed) in [(&buyer, "/buyer"), (&seller, "/seller"), (&admin, "/admin")] {
            let bearer = user.bearer();
            let (status, body) = call(&router, allowed, Some(&bearer)).await;
            assert_eq!(status, StatusCode::OK, "{allowed}: {body}");
            assert_eq!(body, user.id.to_string());
            let (status, _) = call(&router, "/any", Some(&bearer)).await;
            assert_eq!(status, StatusCode::OK);
            for path in ["/buyer", "/seller", "/admin"].into_iter().filter(|p| *p != allowed) {
                let (status, body) = call(&router, path, Some(&bearer)).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{} on {path}", user.role);
                assert_eq!(code(&body), "forbidden");
            }
        }

        let forged = AccessTokens::new(b"not the secret of this deployment!", TimeDelta::minutes(15))
            .issue(admin.id, Role::Admin, app.clock.now());
        let forged = format!("Bearer {forged}");
        let basic = "Basic YWRtaW46YWRtaW4=".to_owned();
        let garbage = "Bearer garbage".to_owned();
        for authorization in [None, Some(&forged), Some(&basic), Some(&garbage)] {
            for path in ["/any", "/buyer", "/seller", "/admin"] {
                let (status, body) = call(&router, path, authorization.map(String::as_str)).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {authorization:?}");
                assert_eq!(code(&body), "unauthorized");
            }
        }

        // A token as login issues it, valid for the configured 15 minutes.
        let issued = app.state().tokens.issue(admin.id, Role::Admin, app.clock.now());
        app.clock.advance(Duration::minutes(15));
        let (status, body) = call(&router, "/admin", Some(&format!("Bearer {issued}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "an expired token");
        assert_eq!(code(&body), "unauthorized");
    }
}
