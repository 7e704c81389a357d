//! Operating a node as a process: `serve` drains on SIGTERM (readiness first, then the listener,
//! then in-flight requests), and `worker` runs jobs behind `/healthz` and `/metrics` only.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rushline_testkit::{Backend, TestDb, TestRedis};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const SECRET: &str = "drain-test-secret-drain-test-secret!!";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `rushline <args>` on the test's PostgreSQL database and Redis prefix.
fn rushline(args: &[&str], db: &TestDb, redis: &TestRedis, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rushline"));
    command
        .args(args)
        .env("RUSHLINE_DATA_DIR", data_dir)
        .env("RUSHLINE_DATABASE__URL", &db.url)
        .env("RUSHLINE_GATE__URL", &redis.url)
        .env("RUSHLINE_REDIS__URL", &redis.url)
        .env("RUSHLINE_REDIS__KEY_PREFIX", &redis.prefix)
        .env("RUSHLINE_AUTH__JWT_SECRET", SECRET)
        .env("RUSHLINE_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn wait_until_up(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client.get(format!("{url}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{url} did not come up");
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-s", name, &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

async fn exit_of(mut child: Child) -> ExitStatus {
    tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the process exits")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_readiness_then_the_listener_and_finishes_in_flight_requests() {
    if !Backend::Postgres.available() {
        return;
    }
    let db = TestDb::postgres().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let child = rushline(&["serve", "--no-migrate"], &db, &redis, data_dir.path())
        .env("RUSHLINE_HTTP__ADDR", format!("127.0.0.1:{port}"))
        .env("RUSHLINE_HTTP__DRAIN_GRACE", "2s")
        .spawn()
        .unwrap();
    wait_until_up(&url).await;
    let client = reqwest::Client::new();
    let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    // A sign-up whose body is only half sent: in flight until the test sends the rest.
    let body = r#"{"email": "drain@example.com", "password": "s3cret!pw", "name": "Drain"}"#;
    let (first, rest) = body.split_at(20);
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    in_flight
        .write_all(
            format!(
                "POST /api/v1/auth/signup HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\n\r\n{first}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();

    signal(&child, "TERM");
    // During the grace the node still answers, but not ready.
    let draining = loop {
        let answer = client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .expect("still accepting during the grace");
        if answer.status() == 503 {
            break answer.json::<serde_json::Value>().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(draining["error"]["code"], "not_ready");
    assert_eq!(draining["error"]["details"]["draining"], true);
    assert_eq!(draining["error"]["details"]["database"], "ok");

    // After the grace it stops accepting connections...
    while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and still finishes the request it was reading.
    in_flight.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("drain@example.com"), "{answer}");

    let status = exit_of(child).await;
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_health_and_metrics_only_and_stops_on_sigterm() {
    if !Backend::Postgres.available() {
        return;
    }
    let db = TestDb::postgres().await.unwrap();
    let redis = TestRedis::new().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let child = rushline(&["worker", "--no-migrate"], &db, &redis, data_dir.path())
        .env("RUSHLINE_WORKER__ADDR", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    wait_until_up(&url).await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{url}{path}")).send();

    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    // Periodic jobs run from the start; their outcomes are counted.
    let metrics = loop {
        let text = get("/metrics").await.unwrap().text().await.unwrap();
        if text.contains("rushline_jobs_total") {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(metrics.contains("rushline_job_lag_seconds"), "{metrics}");
    for path in ["/api/v1/products", "/readyz", "/openapi.json"] {
        let answer = get(path).await.unwrap();
        assert_eq!(answer.status(), 404, "{path}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }

    signal(&child, "TERM");
    let status = exit_of(child).await;
    assert!(status.success(), "{status}");
}
