use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `redis-server` of this test's own on a free port, for tests that must flush or stop Redis
/// without touching the shared server. Killed when dropped.
pub struct PrivateRedis {
    pub url: String,
    port: u16,
    server: Child,
}

impl PrivateRedis {
    /// `None` (skip) when `redis-server` is not installed, except in CI, where that fails.
    pub async fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let server = match spawn(port) {
            Ok(server) => server,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound && std::env::var_os("CI").is_none() =>
            {
                eprintln!("skipped: redis-server is not on PATH");
                return None;
            }
            Err(e) => panic!("could not start redis-server: {e}"),
        };
        let redis = Self {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            server,
        };
        redis.until_it_answers().await;
        Some(redis)
    }

    async fn until_it_answers(&self) {
        let client = redis::Client::open(self.url.as_str()).expect("a valid URL");
        for _ in 0..200 {
            if client.get_multiplexed_async_connection().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "redis-server on port {} did not accept connections",
            self.port
        );
    }

    /// Empties this private server, as a Redis restarted without persistence would be.
    pub async fn flushall(&self) {
        let client = redis::Client::open(self.url.as_str()).expect("a valid URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("private Redis answers");
        let _: () = redis::cmd("FLUSHALL")
            .query_async(&mut conn)
            .await
            .expect("FLUSHALL");
    }

    /// Stops the server, as a crashed Redis would be gone.
    pub fn stop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }

    /// Starts a new, empty server on the same port (stopping this one first if it still runs),
    /// as a Redis restarted without persistence would come back: every connection to the old
    /// one is gone, and so is every key (and every loaded script).
    pub async fn restart_empty(&mut self) {
        self.stop();
        self.server = spawn(self.port).expect("restart redis-server");
        self.until_it_answers().await;
    }
}

fn spawn(port: u16) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
