//! A node whose database disappears answers 503 and recovers on its own once it is back.

use axum::http::StatusCode;
use rushline::config::ServiceUrl;
use rushline_testkit::{Backend, ChaosProxy, TestApp};

/// A proxy in front of the server `direct` names, and the same URL pointing at the proxy.
pub(crate) async fn through_proxy(
    direct: &ServiceUrl,
    default_port: u16,
) -> (ChaosProxy, ServiceUrl) {
    let url = url::Url::parse(direct.expose()).unwrap();
    let target = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port().unwrap_or(default_port)
    );
    let proxy = ChaosProxy::start(target.parse().unwrap()).await;
    let mut proxied = url;
    proxied.set_port(Some(proxy.addr.port())).unwrap();
    (proxy, ServiceUrl::from(proxied.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_postgres_is_cut_off_and_200_again_without_restart() {
    if !Backend::Postgres.available() {
        return;
    }
    let app = TestApp::new(Backend::Postgres).await;
    let (proxy, proxied) = through_proxy(&app.node.config.database_url(), 5432).await;
    let node = app
        .another_node()
        .config(|c| c.database.url = Some(proxied))
        .build()
        .await;

    node.get("/readyz").await.assert_status(StatusCode::OK);

    proxy.cut();
    let response = node.get("/readyz").await;
    response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.error_code(), "not_ready");
    // The state only: the cause goes to the log, not to whoever asks.
    let database = &response.json()["error"]["details"]["database"];
    assert!(
        database == "unreachable" || database == "timed_out",
        "{database}"
    );
    assert_eq!(response.json()["error"]["details"]["redis"], "ok");

    proxy.restore();
    node.get("/readyz").await.assert_status(StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_redis_is_cut_off_and_200_again_without_restart() {
    if !Backend::Postgres.available() {
        return;
    }
    let app = TestApp::new(Backend::Postgres).await;
    let (proxy, proxied) = through_proxy(app.node.config.redis.url.as_ref().unwrap(), 6379).await;
    let node = app
        .another_node()
        .config(|c| c.redis.url = Some(proxied))
        .build()
        .await;
    node.get("/readyz").await.assert_status(StatusCode::OK);

    proxy.cut();
    let response = node.get("/readyz").await;
    response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.json()["error"]["details"]["database"], "ok");
    let redis = &response.json()["error"]["details"]["redis"];
    assert!(redis == "unreachable" || redis == "timed_out", "{redis}");

    proxy.restore();
    // The connection manager reconnects on its own; the first probe may still see the old,
    // broken connection.
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = node.get("/readyz").await.status;
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        StatusCode::OK,
        "Redis came back, the node did not notice"
    );
}
