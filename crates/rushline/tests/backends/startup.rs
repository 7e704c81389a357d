//! `serve` with a Redis that never answers: it exits with an error naming the key at fault, in
//! seconds, instead of hanging in silent retries.

use std::process::Stdio;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::process::Command;

/// Far longer than start-up's own bound, so that only a hang fails the test.
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn serve_fails_fast_naming_the_key_when_redis_never_answers() {
    // Accepts connections (the kernel's backlog does) and never says a word: what a firewalled
    // or wedged Redis looks like to a client.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("redis://{}", silent.local_addr().unwrap());
    let runs = ["RUSHLINE_REDIS__URL", "RUSHLINE_GATE__URL"].map(|variable| {
        let data_dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_rushline"));
        command
            .arg("serve")
            .env("RUSHLINE_HTTP__ADDR", "127.0.0.1:0")
            .env("RUSHLINE_DATA_DIR", data_dir.path())
            .env(variable, &silent_url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().expect("start rushline");
        async move {
            let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
                .await
                .unwrap_or_else(|_| panic!("serve with {variable} still hangs"))
                .unwrap();
            drop(data_dir);
            (variable, output)
        }
    });
    for (variable, output) in futures::future::join_all(runs).await {
        assert!(!output.status.success(), "{variable}");
        let key = match variable {
            "RUSHLINE_REDIS__URL" => "redis.url",
            _ => "gate.url",
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("error: {key}")),
            "{variable}: {stderr}"
        );
    }
}
