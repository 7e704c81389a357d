use axum::http::{Method, StatusCode};
use rushline_domain::Role;
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;

use super::{call, create, get_as, id_of, invalid_fields, product_body};

backend_test! {
    async fn creating_a_product_validates_every_field(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let post = |body| call(&app, Method::POST, "/api/v1/products", Some(body), Some(&seller));

        let empty = post(json!({})).await;
        assert_eq!(
            invalid_fields(&empty),
            ["category", "description", "name", "price", "stock"]
        );
        assert_eq!(
            empty.json()["error"]["details"]["fields"]["name"],
            json!(["is required"])
        );

        let out_of_bounds = post(json!({
            "name": "x".repeat(101),
            "description": "d".repeat(5001),
            "category": "c".repeat(51),
            "price": 0,
            "stock": -1,
            "status": "archived",
        }))
        .await;
        assert_eq!(
            invalid_fields(&out_of_bounds),
            ["category", "description", "name", "price", "status", "stock"]
        );
        let mut blank = product_body("x", "shoes", 1);
        blank["name"] = json!("   ");
        let blank_name = post(blank).await;
        assert_eq!(invalid_fields(&blank_name), ["name"]);

        let wrong_type = post(json!({"name": "Shoe", "description": "", "category": "shoes", "price": "cheap", "stock": 1})).await;
        wrong_type.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong_type.error_code(), "invalid_body");

        let created = post(json!({
            "name": "  Aurora sneakers ",
            "description": "",
            "category": " Shoes",
            "price": 129000,
            "stock": 0,
        }))
        .await;
        created.assert_status(StatusCode::CREATED);
        let product = created.json();
        assert_eq!(
            created.headers["location"],
            format!("/api/v1/products/{}", id_of(&product))
        );
        assert_eq!(product["name"], "Aurora sneakers");
        assert_eq!(product["category"], "shoes");
        assert_eq!(product["status"], "draft", "draft unless said otherwise");
        assert_eq!(product["seller_id"], seller.id.to_string());
        assert_eq!(product["price"], 129000);
        assert_eq!(product["effective_price"], 129000);
        assert_eq!(product["active_time_sale"], json!(null));
        assert_eq!(product["images"], json!([]));
        assert!(product.get("deleted_at").is_none());

        let buyer = app.user(Role::Buyer).await;
        let as_buyer = call(&app, Method::POST, "/api/v1/products", Some(product_body("x", "y", 1)), Some(&buyer)).await;
        as_buyer.assert_status(StatusCode::FORBIDDEN);
        let anonymous = call(&app, Method::POST, "/api/v1/products", Some(product_body("x", "y", 1)), None).await;
        anonymous.assert_status(StatusCode::UNAUTHORIZED);
        let bad_token = app
            .send(Method::POST, "/api/v1/products", Some(product_body("x", "y", 1)), &[("authorization", "Bearer nope")])
            .await;
        bad_token.assert_status(StatusCode::UNAUTHORIZED);
    }
}

backend_test! {
    async fn control_characters_in_product_text_are_validation_errors(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let mut body = product_body("Aurora\u{0}", "sho\u{0}es", 1_000);
        body["description"] = json!("soft\u{0}sole");
        let created = call(&app, Method::POST, "/api/v1/products", Some(body), Some(&seller)).await;
        assert_eq!(invalid_fields(&created), ["category", "description", "name"]);

        let mut lines = product_body("Aurora", "shoes", 1_000);
        lines["description"] = json!("Light.\r\n\tBreathable.");
        let product = create(&app, &seller, lines).await;
        assert_eq!(product["description"], "Light.\r\n\tBreathable.");
        let path = format!("/api/v1/products/{}", id_of(&product));
        let changed = call(&app, Method::PATCH, &path, Some(json!({"name": "bell\u{7}", "category": "a\nb", "description": "\u{1b}[2J"})), Some(&seller)).await;
        assert_eq!(invalid_fields(&changed), ["category", "description", "name"]);
    }
}

backend_test! {
    async fn only_the_owner_or_an_admin_changes_a_product_and_others_are_told_404(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (owner, other, buyer, admin) = (
            app.user(Role::Seller).await,
            app.user(Role::Seller).await,
            app.user(Role::Buyer).await,
            app.user(Role::Admin).await,
        );
        let product = create(&app, &owner, product_body("Aurora sneakers", "shoes", 129000)).await;
        let path = format!("/api/v1/products/{}", id_of(&product));
        let change = json!({"price": 99000});

        for (method, body) in [(Method::PATCH, Some(change.clone())), (Method::DELETE, None)] {
            let response = call(&app, method.clone(), &path, body.clone(), Some(&other)).await;
            response.assert_status(StatusCode::NOT_FOUND);
            assert_eq!(response.error_code(), "not_found");
            call(&app, method, &path, body, Some(&buyer)).await.assert_status(StatusCode::FORBIDDEN);
        }
        let sale = json!({"price": 1, "starts_at": "2099-01-01T00:00:00Z", "ends_at": "2099-01-02T00:00:00Z"});
        call(&app, Method::POST, &format!("{path}/time-sales"), Some(sale), Some(&other))
            .await
            .assert_status(StatusCode::NOT_FOUND);
        let missing = format!("/api/v1/products/{}", uuid::Uuid::now_v7());
        call(&app, Method::PATCH, &missing, Some(change.clone()), Some(&owner))
            .await
            .assert_status(StatusCode::NOT_FOUND);
        call(&app, Method::PATCH, "/api/v1/products/not-a-uuid", Some(change.clone()), Some(&owner))
            .await
            .assert_status(StatusCode::BAD_REQUEST);

        let invalid = call(&app, Method::PATCH, &path, Some(json!({"price": -5, "status": "gone", "name": "ok"})), Some(&owner)).await;
        assert_eq!(invalid_fields(&invalid), ["price", "status"]);

        let changed = call(&app, Method::PATCH, &path, Some(json!({"price": 99000, "name": "Aurora II"})), Some(&owner)).await;
        changed.assert_status(StatusCode::OK);
        assert_eq!(changed.json()["price"], 99000);
        assert_eq!(changed.json()["name"], "Aurora II");
        assert_eq!(changed.json()["category"], "shoes", "unchanged");

        let by_admin = call(&app, Method::PATCH, &path, Some(json!({"status": "draft"})), Some(&admin)).await;
        by_admin.assert_status(StatusCode::OK);
        assert_eq!(by_admin.json()["status"], "draft");

        // A draft is the owner's and admins' business only.
        get_as(&app, &path, None).await.assert_status(StatusCode::NOT_FOUND);
        get_as(&app, &path, Some(&other)).await.assert_status(StatusCode::NOT_FOUND);
        get_as(&app, &path, Some(&buyer)).await.assert_status(StatusCode::NOT_FOUND);
        get_as(&app, &path, Some(&owner)).await.assert_status(StatusCode::OK);
        get_as(&app, &path, Some(&admin)).await.assert_status(StatusCode::OK);
        get_as(&app, &format!("{path}/time-sales"), None).await.assert_status(StatusCode::NOT_FOUND);
        get_as(&app, &format!("{path}/time-sales"), Some(&owner)).await.assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn a_soft_deleted_product_answers_404_to_all_but_its_owner_and_admins(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (owner, other, admin) = (
            app.user(Role::Seller).await,
            app.user(Role::Seller).await,
            app.user(Role::Admin).await,
        );
        let product = create(&app, &owner, product_body("Aurora sneakers", "shoes", 129000)).await;
        let kept = create(&app, &owner, product_body("Borealis boots", "shoes", 99000)).await;
        let path = format!("/api/v1/products/{}", id_of(&product));
        get_as(&app, &path, None).await.assert_status(StatusCode::OK);
        let listed = get_as(&app, "/api/v1/products", None).await.json();
        assert_eq!(super::item_ids(&listed), [id_of(&kept), id_of(&product)]);

        call(&app, Method::DELETE, &path, None, Some(&owner))
            .await
            .assert_status(StatusCode::NO_CONTENT);

        get_as(&app, &path, None).await.assert_status(StatusCode::NOT_FOUND);
        get_as(&app, &path, Some(&other)).await.assert_status(StatusCode::NOT_FOUND);
        get_as(&app, &format!("{path}/time-sales"), None).await.assert_status(StatusCode::NOT_FOUND);
        for viewer in [&owner, &admin] {
            let seen = get_as(&app, &path, Some(viewer)).await;
            seen.assert_status(StatusCode::OK);
            assert!(seen.json()["deleted_at"].is_string(), "{}", seen.text());
        }
        let listed = get_as(&app, "/api/v1/products", None).await.json();
        assert_eq!(super::item_ids(&listed), [id_of(&kept)]);
        let mine = get_as(&app, "/api/v1/products?mine=true", Some(&owner)).await.json();
        assert_eq!(super::item_ids(&mine), [id_of(&kept)]);

        // Gone for writes, even for its owner.
        call(&app, Method::DELETE, &path, None, Some(&owner))
            .await
            .assert_status(StatusCode::NOT_FOUND);
        call(&app, Method::PATCH, &path, Some(json!({"price": 1})), Some(&admin))
            .await
            .assert_status(StatusCode::NOT_FOUND);

        // An admin may delete another seller's product.
        call(&app, Method::DELETE, &format!("/api/v1/products/{}", id_of(&kept)), None, Some(&admin))
            .await
            .assert_status(StatusCode::NO_CONTENT);
        let listed = get_as(&app, "/api/v1/products", None).await.json();
        assert!(super::item_ids(&listed).is_empty());
    }
}

#[tokio::test]
async fn the_catalog_is_described_in_the_openapi_document() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await.json();
    for (path, methods) in [
        ("/api/v1/products", &["get", "post"][..]),
        ("/api/v1/products/{id}", &["get", "patch", "delete"]),
        ("/api/v1/products/{id}/images", &["post"]),
        ("/api/v1/products/{id}/images/{image_id}", &["get"]),
        ("/api/v1/products/{id}/time-sales", &["get", "post"]),
    ] {
        for method in methods {
            let operation = &doc["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert_eq!(operation["tags"], json!(["catalog"]), "{method} {path}");
        }
    }
    for schema in [
        "ProductView",
        "ProductPage",
        "NewProductBody",
        "ProductChangesBody",
        "NewTimeSaleBody",
        "TimeSaleView",
        "TimeSaleList",
        "ImageView",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "no schema {schema}"
        );
    }
    let product = &doc["components"]["schemas"]["ProductView"]["properties"];
    for field in ["effective_price", "active_time_sale", "images", "status"] {
        assert!(product[field].is_object(), "ProductView has no {field}");
    }
    let upload = &doc["paths"]["/api/v1/products/{id}/images"]["post"]["requestBody"]["content"];
    assert!(
        upload["multipart/form-data"]["schema"]["properties"]["file"].is_object(),
        "{upload}"
    );
    let list_params: Vec<&str> = doc["paths"]["/api/v1/products"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        list_params,
        [
            "cursor",
            "limit",
            "category",
            "q",
            "sort",
            "seller_id",
            "mine"
        ]
    );
    assert!(
        doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "catalog")
    );
}

backend_test! {
    async fn a_product_created_again_with_its_key_is_the_same_product(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let bearer = seller.bearer();
        let post = |price: i64| {
            let (app, bearer) = (&app, bearer.clone());
            async move {
                app.send(
                    Method::POST,
                    "/api/v1/products",
                    Some(product_body("Aurora", "shoes", price)),
                    &[("authorization", &bearer), ("idempotency-key", "aurora")],
                )
                .await
            }
        };
        let first = post(129_000).await;
        first.assert_status(StatusCode::CREATED);
        let again = post(129_000).await;
        again.assert_status(StatusCode::CREATED);
        assert_eq!(id_of(&again.json()), id_of(&first.json()));
        let other = post(99_000).await;
        other.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(other.error_code(), "idempotency_mismatch");
        let mine = call(&app, Method::GET, "/api/v1/products?mine=true", None, Some(&seller)).await;
        assert_eq!(mine.json()["items"].as_array().unwrap().len(), 1);
    }
}
