//! The cached public pages: invalidated by every write, on this node and on the others.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use rushline::config::ServiceUrl;
use rushline_domain::catalog::ProductChanges;
use rushline_domain::{Clock, Role};
use rushline_testkit::{Backend, ChaosProxy, TestApp, backend_test};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{call, create, get_as, id_of, item_ids, product_body, upload, wait_for_sync};

/// Renames a product in the store directly, as a write whose invalidation never arrived would.
async fn rename_behind_the_cache(app: &TestApp, id: &str, name: &str) {
    let changes = ProductChanges {
        name: Some(name.to_owned()),
        ..ProductChanges::default()
    };
    app.state()
        .store
        .update_product(id.parse::<Uuid>().unwrap(), &changes, app.clock.now())
        .await
        .unwrap();
}

async fn name_on(app: &TestApp, id: &str) -> Value {
    let detail = get_as(app, &format!("/api/v1/products/{id}"), None).await;
    detail.assert_status(StatusCode::OK);
    detail.json()["name"].clone()
}

async fn listed_names(app: &TestApp) -> Vec<Value> {
    let page = get_as(app, "/api/v1/products", None).await.json();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect()
}

backend_test! {
    async fn every_write_through_the_api_invalidates_cached_pages_and_listings(backend: Backend) {
        let app = TestApp::new(backend).await;
        wait_for_sync(&app, |s| s.subscribed).await;
        let seller = app.user(Role::Seller).await;
        let id = id_of(&create(&app, &seller, product_body("Aurora sneakers", "shoes", 100_000)).await);
        assert_eq!(name_on(&app, &id).await, "Aurora sneakers");
        assert_eq!(listed_names(&app).await, ["Aurora sneakers"]);

        rename_behind_the_cache(&app, &id, "Renamed in the store").await;
        assert_eq!(name_on(&app, &id).await, "Aurora sneakers", "the page is cached");
        assert_eq!(listed_names(&app).await, ["Aurora sneakers"], "the listing is cached");

        let path = format!("/api/v1/products/{id}");
        call(&app, Method::PATCH, &path, Some(json!({"stock": 3})), Some(&seller))
            .await
            .assert_status(StatusCode::OK);
        assert_eq!(name_on(&app, &id).await, "Renamed in the store");
        assert_eq!(listed_names(&app).await, ["Renamed in the store"]);

        // Each kind of write: a new product, a time sale, an image, a delete.
        app.clock.advance(Duration::seconds(1));
        let other = id_of(&create(&app, &seller, product_body("Borealis boots", "shoes", 50_000)).await);
        assert_eq!(listed_names(&app).await, ["Borealis boots", "Renamed in the store"]);

        rename_behind_the_cache(&app, &id, "Renamed again").await;
        let now = app.clock.now();
        let sale = json!({"price": 80_000, "starts_at": now, "ends_at": now + Duration::hours(1)});
        call(&app, Method::POST, &format!("{path}/time-sales"), Some(sale), Some(&seller))
            .await
            .assert_status(StatusCode::CREATED);
        let detail = get_as(&app, &path, None).await.json();
        assert_eq!(detail["name"], "Renamed again");
        assert_eq!(detail["effective_price"], 80_000);

        rename_behind_the_cache(&app, &id, "Renamed a third time").await;
        upload(&app, &seller, &id, b"\x89PNG\r\n\x1a\n", "image/png")
            .await
            .assert_status(StatusCode::CREATED);
        let detail = get_as(&app, &path, None).await.json();
        assert_eq!(detail["name"], "Renamed a third time");
        assert_eq!(detail["images"].as_array().unwrap().len(), 1);

        call(&app, Method::DELETE, &format!("/api/v1/products/{other}"), None, Some(&seller))
            .await
            .assert_status(StatusCode::NO_CONTENT);
        get_as(&app, &format!("/api/v1/products/{other}"), None)
            .await
            .assert_status(StatusCode::NOT_FOUND);
        assert_eq!(listed_names(&app).await, ["Renamed a third time"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_node_is_seen_on_the_next_read_of_another() {
    if !Backend::Postgres.available() {
        return;
    }
    let a = TestApp::new(Backend::Postgres).await;
    let b = a.another_node().build().await;
    wait_for_sync(&b, |s| s.subscribed).await;
    let seller = a.user(Role::Seller).await;
    let id = id_of(
        &create(
            &a,
            &seller,
            product_body("Aurora sneakers", "shoes", 100_000),
        )
        .await,
    );
    // B sees the creation only once A's message has reached it.
    wait_for_sync(&b, |s| s.received == 1).await;

    assert_eq!(name_on(&b, &id).await, "Aurora sneakers");
    assert_eq!(listed_names(&b).await, ["Aurora sneakers"]);
    rename_behind_the_cache(&a, &id, "Renamed in the store").await;
    assert_eq!(
        name_on(&b, &id).await,
        "Aurora sneakers",
        "node B caches the page"
    );
    assert_eq!(
        listed_names(&b).await,
        ["Aurora sneakers"],
        "node B caches the listing"
    );

    let path = format!("/api/v1/products/{id}");
    let received = b.state().catalog.cache.sync_state().borrow().received;
    call(
        &a,
        Method::PATCH,
        &path,
        Some(json!({"price": 90_000})),
        Some(&seller),
    )
    .await
    .assert_status(StatusCode::OK);
    // Delivery over pub/sub is asynchronous: "next read" is the first read after the message
    // reached node B.
    wait_for_sync(&b, |s| s.received > received).await;
    let detail = get_as(&b, &path, None).await.json();
    assert_eq!(
        (detail["name"].clone(), detail["price"].clone()),
        (json!("Renamed in the store"), json!(90_000))
    );
    assert_eq!(listed_names(&b).await, ["Renamed in the store"]);

    let received = b.state().catalog.cache.sync_state().borrow().received;
    a.clock.advance(Duration::seconds(1));
    let second = id_of(&create(&a, &seller, product_body("Borealis boots", "shoes", 50_000)).await);
    call(&a, Method::DELETE, &path, None, Some(&seller))
        .await
        .assert_status(StatusCode::NO_CONTENT);
    wait_for_sync(&b, |s| s.received >= received + 2).await;
    let listed = get_as(&b, "/api/v1/products", None).await.json();
    assert_eq!(item_ids(&listed), [second]);
    get_as(&b, &path, None)
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_hear_invalidations_reads_through_until_it_hears_again() {
    if !Backend::Postgres.available() {
        return;
    }
    let a = TestApp::new(Backend::Postgres).await;
    let redis = url::Url::parse(a.node.config.redis.url.as_ref().unwrap().expose()).unwrap();
    let target = format!(
        "{}:{}",
        redis.host_str().unwrap(),
        redis.port().unwrap_or(6379)
    );
    let proxy = ChaosProxy::start(target.parse().unwrap()).await;
    let mut proxied = redis.clone();
    proxied.set_port(Some(proxy.addr.port())).unwrap();
    let b = a
        .another_node()
        .config(|c| c.redis.url = Some(ServiceUrl::from(proxied.as_str())))
        .build()
        .await;
    wait_for_sync(&b, |s| s.subscribed).await;
    let seller = a.user(Role::Seller).await;
    let id = id_of(
        &create(
            &a,
            &seller,
            product_body("Aurora sneakers", "shoes", 100_000),
        )
        .await,
    );
    // B sees the creation only once A's message has reached it.
    wait_for_sync(&b, |s| s.received == 1).await;
    assert_eq!(name_on(&b, &id).await, "Aurora sneakers");

    proxy.cut();
    wait_for_sync(&b, |s| !s.subscribed).await;
    // Node B could miss invalidations now, so it serves nothing from its cache.
    rename_behind_the_cache(&a, &id, "Renamed while B was deaf").await;
    assert_eq!(name_on(&b, &id).await, "Renamed while B was deaf");

    proxy.restore();
    wait_for_sync(&b, |s| s.subscribed).await;
    assert_eq!(name_on(&b, &id).await, "Renamed while B was deaf");
    rename_behind_the_cache(&a, &id, "Renamed behind the cache").await;
    assert_eq!(
        name_on(&b, &id).await,
        "Renamed while B was deaf",
        "caching again"
    );
}
