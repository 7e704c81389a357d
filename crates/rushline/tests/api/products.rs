//! Products: what sellers list for drops to sell.

use axum::http::{Method, StatusCode};
use rushline_domain::{ProductStatus, Role};
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;
use uuid::Uuid;

backend_test! {
    async fn sellers_list_products_with_valid_fields(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let body = json!({
            "name": "  Aurora sneakers ", "description": "", "category": " Shoes",
            "price": 129_000, "stock": 0, "status": "active",
        });
        let response = app
            .send(Method::POST, "/api/v1/products", Some(body), &[("authorization", &seller.bearer())])
            .await;
        response.assert_status(StatusCode::CREATED);
        let view = response.json();
        let id: Uuid = view["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(response.headers["location"], format!("/api/v1/products/{id}"));
        assert_eq!(view["name"], "Aurora sneakers");
        assert_eq!(view["category"], "shoes");
        assert_eq!(view["seller_id"], seller.id.to_string());
        let stored = app.state().store.product(id).await.unwrap();
        assert_eq!((stored.price, stored.stock, stored.status), (129_000, 0, ProductStatus::Active));

        let draft = app
            .send(
                Method::POST,
                "/api/v1/products",
                Some(json!({"name": "N", "description": "d", "category": "c", "price": 1, "stock": 5})),
                &[("authorization", &seller.bearer())],
            )
            .await;
        draft.assert_status(StatusCode::CREATED);
        assert_eq!(draft.json()["status"], "draft");
    }
}

backend_test! {
    async fn products_refuse_bad_fields_and_other_roles(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let bad = json!({
            "name": " ", "description": "x".repeat(5_001), "category": "c".repeat(51),
            "price": 0, "stock": -1, "status": "archived",
        });
        let response = app
            .send(Method::POST, "/api/v1/products", Some(bad), &[("authorization", &seller.bearer())])
            .await;
        response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &response.json()["error"]["details"]["fields"];
        for field in ["name", "description", "category", "price", "stock", "status"] {
            assert!(fields[field].is_array(), "{field} in {fields}");
        }
        let empty = app
            .send(Method::POST, "/api/v1/products", Some(json!({})), &[("authorization", &seller.bearer())])
            .await;
        empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &empty.json()["error"]["details"]["fields"];
        for field in ["name", "description", "category", "price", "stock"] {
            assert!(fields[field].is_array(), "{field} in {fields}");
        }

        let good = json!({"name": "N", "description": "", "category": "c", "price": 1, "stock": 0});
        let buyer = app.user(Role::Buyer).await;
        let response = app
            .send(Method::POST, "/api/v1/products", Some(good.clone()), &[("authorization", &buyer.bearer())])
            .await;
        response.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(response.error_code(), "forbidden");
        let response = app.post("/api/v1/products", good).await;
        response.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(response.error_code(), "unauthorized");
    }
}
