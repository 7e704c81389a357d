use redis::Commands as _;
use uuid::Uuid;

use crate::db::backend_url;

/// The test Redis server's URL, or `None` to skip (outside CI only).
pub fn redis_url() -> Option<String> {
    backend_url("RUSHLINE_TEST_REDIS_URL")
}

/// A key prefix of this test's own on the shared Redis; its keys are deleted when dropped.
/// Never FLUSHALL the shared server: other tests are using it.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
}

impl TestRedis {
    pub fn new() -> Option<Self> {
        Some(Self {
            url: redis_url()?,
            prefix: format!("rltest:{}:", Uuid::new_v4().simple()),
        })
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let pattern = format!("{}*", self.prefix);
        let keys: Vec<String> = match conn.scan_match::<_, String>(&pattern) {
            Ok(keys) => keys.collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query(&mut conn);
        }
    }
}
