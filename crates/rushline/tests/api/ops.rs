use std::time::Duration;

use axum::http::{Method, StatusCode};
use rushline_testkit::{TestApp, backend_test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

backend_test! {
    async fn health_readiness_and_metrics(backend: Backend) {
        let app = TestApp::new(backend).await;
        let alive = app.get("/healthz").await;
        alive.assert_status(StatusCode::OK);
        assert_eq!(alive.json()["status"], "ok");

        let ready = app.get("/readyz").await;
        ready.assert_status(StatusCode::OK);
        assert_eq!(ready.json()["database"], "ok");
        assert_eq!(ready.json()["payments"], "sandbox", "announced, never silent");
        let redis_configured = app.node.config.redis.url.is_some();
        assert_eq!(ready.json().get("redis").is_some(), redis_configured);

        let metrics = app.get("/metrics").await;
        metrics.assert_status(StatusCode::OK);
        let text = metrics.text();
        assert!(text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#), "{text}");
        assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
        assert!(text.contains(r#"rushline_db_pool_connections{state="in_use"}"#), "{text}");
        assert!(text.contains("rushline_db_pool_max_connections"), "{text}");
    }
}

/// A failed login from `client` as nginx on 127.0.0.1 forwards it.
async fn failed_login_via_proxy(app: &TestApp, client: &str, n: usize) -> StatusCode {
    let body =
        serde_json::json!({"email": format!("nobody{n}@example.com"), "password": "wrong!pw1"});
    let mut request = axum::http::Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .header("x-forwarded-for", format!("203.0.113.250, {client}"))
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40_000,
        ))));
    app.request(request).await.status
}

#[tokio::test]
async fn throttles_count_the_forwarded_client_only_behind_a_trusted_proxy() {
    let behind = |trusted: &'static str| {
        TestApp::builder(rushline_testkit::Backend::Sqlite).config(move |config| {
            config.auth.login_failures_per_ip = 2;
            config.http.trusted_proxies = trusted.parse().unwrap();
        })
    };
    let app = behind("127.0.0.1").build().await;
    for n in 0..2 {
        assert_eq!(
            failed_login_via_proxy(&app, "198.51.100.1", n).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        failed_login_via_proxy(&app, "198.51.100.1", 2).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy has its own count.
    assert_eq!(
        failed_login_via_proxy(&app, "198.51.100.2", 3).await,
        StatusCode::UNAUTHORIZED
    );

    // Not trusted: every request counts as the proxy's, whatever the header says.
    let app = behind("").build().await;
    for n in 0..2 {
        assert_eq!(
            failed_login_via_proxy(&app, "198.51.100.1", n).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        failed_login_via_proxy(&app, "198.51.100.2", 2).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    for n in 0..50 {
        let method = Method::from_bytes(format!("M{n}X").as_bytes()).unwrap();
        app.send(method, "/healthz", None, &[]).await;
    }
    // Paths no route matches are one label value, however many are invented.
    for n in 0..50 {
        app.get(&format!("/no-such-path-{n}")).await;
    }
    let text = app.get("/metrics").await.text();
    assert!(!text.contains(r#"method="M0X""#), "{text}");
    assert!(
        text.contains(r#"http_requests_total{method="other",route="/healthz""#),
        "{text}"
    );
    assert!(!text.contains("no-such-path"), "{text}");
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched""#),
        "{text}"
    );
}

#[tokio::test]
async fn openapi_document_is_3_1_and_docs_render_it() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await;
    doc.assert_status(StatusCode::OK);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    // Offline: the page and every file it loads come from the binary, none from elsewhere.
    let docs = app.get("/docs/").await;
    docs.assert_status(StatusCode::OK);
    let page = docs.text();
    let assets: Vec<&str> = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| page.split(attribute).skip(1))
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert!(assets.len() >= 4, "{page}");
    for asset in &assets {
        assert!(
            !asset.contains("//") && !asset.starts_with('/'),
            "{asset} is not one of the binary's files"
        );
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let file = app.get(&path).await;
        file.assert_status(StatusCode::OK);
        assert!(!file.body.is_empty(), "{path}");
    }
    let initializer = app.get("/docs/swagger-initializer.js").await.text();
    assert!(initializer.contains("/openapi.json"), "{initializer}");
    app.get("/docs").await.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_the_json_error_body() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let missing = app.get("/api/v1/no-such-thing").await;
    missing.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(missing.error_code(), "not_found");

    let wrong_method = app.post("/healthz", serde_json::json!({})).await;
    wrong_method.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    let generated = app.get("/healthz").await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let given = app
        .send(
            axum::http::Method::GET,
            "/healthz",
            None,
            &[("x-request-id", "trace-me-42")],
        )
        .await;
    assert_eq!(given.headers["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn an_oversized_json_body_is_413_not_malformed() {
    let app = TestApp::new(rushline_testkit::Backend::Sqlite).await;
    // Well-formed JSON, larger than the 2 MiB a JSON body may have.
    let name = "a".repeat(3 << 20);
    let body =
        serde_json::json!({"email": "big@example.com", "password": "s3cret!pw", "name": name});
    let response = app.post("/api/v1/auth/signup", body).await;
    response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.error_code(), "payload_too_large");
}

/// A node on port 0 with `change` applied to its HTTP settings; its address.
async fn served_with(change: impl FnOnce(&mut rushline::config::HttpConfig)) -> (TestApp, String) {
    let app = TestApp::builder(rushline_testkit::Backend::Sqlite)
        .config(|c| change(&mut c.http))
        .build()
        .await;
    let (url, _) = app.spawn().await;
    let addr = url.trim_start_matches("http://").to_owned();
    (app, addr)
}

/// Reads until the server closes the connection or has sent a whole answer's head.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap_or(0);
        answer.extend_from_slice(&buf[..n]);
        if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8_lossy(&answer).into_owned();
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let (_app, addr) =
        served_with(|http| http.header_read_timeout = Duration::from_millis(200)).await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost:")
        .await
        .unwrap();
    // Without a header-read deadline this waits for ever (the fail-safe below then fails it).
    let answer = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut stream))
        .await
        .expect("the server let a half-sent request hold its connection");
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn a_request_whose_body_never_comes_is_answered_request_timeout() {
    let (_app, addr) = served_with(|http| http.request_timeout = Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut stream))
        .await
        .expect("the server waited for ever for the body");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let mut rest = vec![0u8; 512];
    let n = stream.read(&mut rest).await.unwrap();
    let body = String::from_utf8_lossy(&rest[..n]);
    let whole = format!("{answer}{body}");
    assert!(whole.contains(r#""code":"request_timeout""#), "{whole}");
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let (_app, addr) = served_with(|http| http.max_connections = 1).await;
    let healthz = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = TcpStream::connect(&addr).await.unwrap();
    first.write_all(healthz).await.unwrap();
    assert!(read_answer(&mut first).await.starts_with("HTTP/1.1 200"));

    // The kernel completes the handshake, but the node does not take the connection up while
    // the first is open.
    let mut second = TcpStream::connect(&addr).await.unwrap();
    second.write_all(healthz).await.unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), second.read(&mut byte)).await;
    assert!(early.is_err(), "served over the cap: {early:?}");

    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut second))
        .await
        .expect("the waiting connection was never served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
