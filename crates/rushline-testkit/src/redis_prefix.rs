use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::db::backend_url;

/// The test Redis server's URL, or `None` to skip (outside CI only).
pub fn redis_url() -> Option<String> {
    backend_url("RUSHLINE_TEST_REDIS_URL")
}

/// A key prefix of this test's own on the shared Redis; its keys are deleted when dropped, even
/// when the test panics. Never FLUSHALL the shared server: other tests are using it.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
    client: redis::Client,
}

impl TestRedis {
    /// `None` (skip) when `RUSHLINE_TEST_REDIS_URL` is unset, except in CI, where that fails.
    pub fn new() -> Option<Self> {
        let url = redis_url()?;
        let client = redis::Client::open(url.as_str()).expect("RUSHLINE_TEST_REDIS_URL is a URL");
        Some(Self {
            url,
            prefix: format!("rltest:{}:", Uuid::new_v4().simple()),
            client,
        })
    }

    /// A connection of its own, as another node would have.
    pub async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        self.client.get_connection_manager().await
    }

    /// Every key under the prefix.
    pub fn keys(&self) -> redis::RedisResult<Vec<String>> {
        let mut conn = self.client.get_connection()?;
        let pattern = format!("{}*", self.prefix);
        let (mut cursor, mut keys) = (0u64, Vec::new());
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut conn)?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let deleted = self.keys().and_then(|keys| {
            let mut conn = self.client.get_connection()?;
            keys.chunks(500)
                .try_for_each(|chunk| redis::cmd("DEL").arg(chunk).exec(&mut conn))
        });
        if let Err(e) = deleted {
            eprintln!("could not delete the keys under {}: {e}", self.prefix);
        }
    }
}
