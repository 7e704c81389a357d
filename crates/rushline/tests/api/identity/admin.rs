use axum::http::{Method, StatusCode};
use rushline_app::identity::{CreateUserError, create_verified_user};
use rushline_domain::Clock;
use rushline_domain::Role;
use rushline_testkit::{TestApp, backend_test};

use super::{PASSWORD, authorized, session};

backend_test! {
    async fn admin_create_user_makes_a_verified_account_of_any_role(backend: Backend) {
        let app = TestApp::new(backend).await;
        let admin = create_verified_user(app.state(), " Ops@Example.com ", " Ops ", Role::Admin, PASSWORD)
            .await
            .unwrap();
        assert_eq!(admin.email, "ops@example.com");
        assert_eq!(admin.name, "Ops");
        assert_eq!(admin.role, Role::Admin);
        assert_eq!(admin.verified_at, Some(app.clock.now()));
        assert!(admin.password_hash.starts_with("$argon2id$"));

        let (access, _) = session(&app, "ops@example.com").await;
        let me = authorized(&app, Method::GET, "/api/v1/me", &access, None).await;
        me.assert_status(StatusCode::OK);
        assert_eq!(me.json()["role"], "admin");

        let twin = create_verified_user(app.state(), "OPS@example.com", "Ops", Role::Seller, PASSWORD).await;
        assert!(matches!(twin, Err(CreateUserError::EmailTaken(ref e)) if e == "ops@example.com"), "{twin:?}");
        let weak = create_verified_user(app.state(), "new@example.com", "New", Role::Buyer, "weak")
            .await
            .unwrap_err();
        assert!(matches!(weak, CreateUserError::Invalid(_)));
        assert!(weak.to_string().contains("password: must be 8 to 64 characters long"), "{weak}");
    }
}
