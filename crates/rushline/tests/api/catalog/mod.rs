//! The catalog: products, listings, search, images, time sales and the page cache.

mod cache;
mod images;
mod listing;
mod products;
mod time_sales;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use rushline_app::catalog::SyncState;
use rushline_testkit::{TestApp, TestResponse, TestUser};
use serde_json::{Value, json};

/// A valid, active product body.
fn product_body(name: &str, category: &str, price: i64) -> Value {
    json!({
        "name": name,
        "description": format!("{name}: a fine thing"),
        "category": category,
        "price": price,
        "stock": 10,
        "status": "active",
    })
}

/// `method path` with an optional JSON body, as `user` (or anonymously).
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    user: Option<&TestUser>,
) -> TestResponse {
    let bearer = user.map(TestUser::bearer);
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| ("authorization", b))
        .into_iter()
        .collect();
    app.send(method, path, body, &headers).await
}

async fn get_as(app: &TestApp, path: &str, user: Option<&TestUser>) -> TestResponse {
    call(app, Method::GET, path, None, user).await
}

/// Creates a product through the API and returns its JSON.
async fn create(app: &TestApp, seller: &TestUser, body: Value) -> Value {
    let response = call(
        app,
        Method::POST,
        "/api/v1/products",
        Some(body),
        Some(seller),
    )
    .await;
    response.assert_status(StatusCode::CREATED);
    response.json()
}

fn id_of(product: &Value) -> String {
    product["id"].as_str().expect("a product id").to_owned()
}

/// The ids of a listing page, in order.
fn item_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect()
}

/// A multipart form with one part named `file`, claiming `content_type`.
async fn upload(
    app: &TestApp,
    user: &TestUser,
    product: &str,
    bytes: &[u8],
    content_type: &str,
) -> TestResponse {
    const BOUNDARY: &str = "rushline-test-boundary-7d1f";
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let request = Request::post(format!("/api/v1/products/{product}/images"))
        .header(header::AUTHORIZATION, user.bearer())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    app.request(request).await
}

/// The fields a `validation_failed` answer names.
fn invalid_fields(response: &TestResponse) -> Vec<String> {
    response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.error_code(), "validation_failed");
    let mut fields: Vec<String> = response.json()["error"]["details"]["fields"]
        .as_object()
        .expect("field details")
        .keys()
        .cloned()
        .collect();
    fields.sort();
    fields
}

/// Waits (at most 30 s, so that a broken subscriber fails instead of hanging) until `node`'s
/// cache is in the state `ready` looks for. A node with Redis bypasses its cache until it has
/// subscribed to invalidations, so tests of caching wait for that first.
pub(crate) async fn wait_for_sync(node: &TestApp, ready: impl FnMut(&SyncState) -> bool) {
    let mut sync = node.state().catalog.cache.sync_state();
    tokio::time::timeout(std::time::Duration::from_secs(30), sync.wait_for(ready))
        .await
        .expect("the invalidation subscriber did not get there in 30 s")
        .expect("the cache is alive");
}
