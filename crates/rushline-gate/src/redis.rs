use std::sync::{Arc, LazyLock};

use ::redis::aio::ConnectionManager;
use ::redis::{AsyncCommands, RedisError, Script};
use async_trait::async_trait;
use dashmap::DashMap;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{ActiveGrant, Claim, ClaimOutcome, Gate, GateError, PoolKey, PoolSource};

static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("redis/claim.lua")));
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("redis/release.lua")));
static REMAINING: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("redis/remaining.lua")));
static LOAD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("redis/load.lua")));
static INVALIDATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("redis/invalidate.lua")));

/// Every script answers `{code, value}`; this code means the pool's state is not in Redis.
const STATE_MISSING: i64 = 0;

/// Runs of a script that may find the state missing: enough for a load plus a few concurrent
/// `invalidate`s (a node rebuilds a pool the database contradicted, at most every 100 ms),
/// without looping forever if something keeps deleting it.
const ATTEMPTS: usize = 5;

/// The gate shared by many nodes: one Lua script per claim or release, so each is one atomic
/// step in Redis with no lock and no read-modify-write round trips.
///
/// Keys, per pool, all under the Redis Cluster hash tag `{pool:<key>}` so that one script can
/// touch them on a cluster:
/// - `<prefix>{pool:<key>}:meta`, a hash: `total`, `limit`, `held` (units granted and not
///   released), `seq` (the last seq given) and `gen` (which load installed this state);
/// - `<prefix>{pool:<key>}:users`, a hash: user id → units held;
/// - `<prefix>{pool:<key>}:grants`, a hash: request id → `seq:qty:fingerprint:user:active:at`;
/// - `<prefix>{pool:<key>}:last_seq`, the last seq a state deleted by `invalidate` gave, so that
///   the reloaded state never gives a seq again that a grant still in flight holds.
///
/// Redis may lose the state (FLUSHALL, a restart without persistence, an eviction; run it with
/// `maxmemory-policy noeviction`). Every script then answers "state missing", and the gate
/// reloads the pool from the [`PoolSource`], installs it only if still absent, and runs the
/// script again. The database stays the truth through this: a grant made just before the loss
/// but committed after the snapshot was read is missing from the rebuilt state, so the rebuilt
/// gate can grant those units once more. The store checks the total and the per-user limit
/// again when it commits a batch and refuses such a grant, so a rebuild can cost a refused
/// claim but never an oversold unit.
pub struct RedisGate {
    conn: ConnectionManager,
    prefix: String,
    source: Arc<dyn PoolSource>,
    // One loader per pool on this node, so that thousands of claims finding the state missing
    // read the database once, not thousands of times. Held across the source read on purpose,
    // and only on this cold path.
    loading: DashMap<PoolKey, Arc<Mutex<()>>>,
}

struct Keys {
    meta: String,
    users: String,
    grants: String,
    last_seq: String,
}

impl RedisGate {
    /// `key_prefix` starts every key (e.g. `rushline:`), so that deployments and tests can
    /// share one Redis. It must not contain `{`, which would take the hash tag's place.
    pub fn new(
        conn: ConnectionManager,
        key_prefix: impl Into<String>,
        source: Arc<dyn PoolSource>,
    ) -> Self {
        let prefix = key_prefix.into();
        assert!(
            !prefix.contains('{'),
            "the key prefix must not contain a hash tag"
        );
        Self {
            conn,
            prefix,
            source,
            loading: DashMap::new(),
        }
    }

    fn keys(&self, pool: &PoolKey) -> Keys {
        let base = format!("{}{{pool:{}}}", self.prefix, pool.0);
        Keys {
            meta: format!("{base}:meta"),
            users: format!("{base}:users"),
            grants: format!("{base}:grants"),
            last_seq: format!("{base}:last_seq"),
        }
    }

    /// Runs `script` over the pool's keys, loading the pool when the script finds it missing.
    async fn run(
        &self,
        pool: &PoolKey,
        script: &Script,
        args: &[String],
    ) -> Result<(i64, u64), GateError> {
        let keys = self.keys(pool);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&keys.meta)
            .key(&keys.users)
            .key(&keys.grants);
        for arg in args {
            invocation.arg(arg);
        }
        let mut conn = self.conn.clone();
        for _ in 0..ATTEMPTS {
            let started = std::time::Instant::now();
            let answer = invocation.invoke_async(&mut conn).await;
            // The round trip of one gate step: what every purchase waits for Redis.
            metrics::histogram!("rushline_redis_command_duration_seconds", "command" => "gate")
                .record(started.elapsed().as_secs_f64());
            let (code, value): (i64, u64) = answer.map_err(unavailable)?;
            if code != STATE_MISSING {
                return Ok((code, value));
            }
            self.load(pool, &keys).await?;
        }
        Err(GateError::Unavailable(format!(
            "pool {}: state deleted again after each of {ATTEMPTS} loads",
            pool.0
        )))
    }

    async fn load(&self, pool: &PoolKey, keys: &Keys) -> Result<(), GateError> {
        let lock = Arc::clone(&self.loading.entry(pool.clone()).or_default());
        let _loading = lock.lock().await;
        let mut conn = self.conn.clone();
        // Another task of this node may have loaded it while this one waited.
        if conn.exists(&keys.meta).await.map_err(unavailable)? {
            return Ok(());
        }
        let snapshot = self
            .source
            .load_pool(pool)
            .await?
            .ok_or(GateError::UnknownPool)?;
        let held: u64 = snapshot.holds.iter().map(|h| u64::from(h.qty)).sum();
        let mut invocation = LOAD.prepare_invoke();
        invocation
            .key(&keys.meta)
            .key(&keys.users)
            .key(&keys.grants)
            .key(&keys.last_seq)
            .arg(snapshot.total)
            .arg(snapshot.per_user_limit)
            .arg(snapshot.last_seq)
            .arg(held);
        for hold in &snapshot.holds {
            invocation
                .arg(hold.request_id.to_string())
                .arg(hold.user.to_string())
                .arg(hold.qty)
                .arg(hold.seq)
                .arg(hold.fingerprint);
        }
        let generation: u64 = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if generation != 0 {
            tracing::info!(
                pool = %pool.0,
                generation,
                held,
                last_seq = snapshot.last_seq,
                "redis gate installed pool state from the source"
            );
        }
        Ok(())
    }
}

#[async_trait]
impl Gate for RedisGate {
    async fn claim(&self, pool: &PoolKey, claim: &Claim) -> Result<ClaimOutcome, GateError> {
        let args = [
            claim.user.to_string(),
            claim.qty.to_string(),
            claim.request_id.to_string(),
            claim.fingerprint.to_string(),
            claim.at.to_string(),
        ];
        let (code, seq) = self.run(pool, &CLAIM, &args).await?;
        match code {
            1 => Ok(ClaimOutcome::Granted { seq }),
            2 => Ok(ClaimOutcome::Replayed { seq }),
            3 => Ok(ClaimOutcome::Mismatch),
            4 => Ok(ClaimOutcome::SoldOut),
            5 => Ok(ClaimOutcome::LimitReached),
            other => Err(GateError::Unavailable(format!(
                "claim script answered {other}"
            ))),
        }
    }

    async fn release(&self, pool: &PoolKey, request_id: Uuid) -> Result<bool, GateError> {
        let (code, _) = self
            .run(pool, &RELEASE, &[request_id.to_string(), "0".to_owned()])
            .await?;
        Ok(code == 1)
    }

    async fn abort(&self, pool: &PoolKey, request_id: Uuid) -> Result<bool, GateError> {
        let (code, _) = self
            .run(pool, &RELEASE, &[request_id.to_string(), "1".to_owned()])
            .await?;
        Ok(code == 1)
    }

    async fn remaining(&self, pool: &PoolKey) -> Result<Option<u64>, GateError> {
        match self.run(pool, &REMAINING, &[]).await {
            Ok((_, remaining)) => Ok(Some(remaining)),
            Err(GateError::UnknownPool) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn invalidate(&self, pool: &PoolKey) -> Result<(), GateError> {
        let keys = self.keys(pool);
        let mut conn = self.conn.clone();
        INVALIDATE
            .key(&keys.meta)
            .key(&keys.users)
            .key(&keys.grants)
            .key(&keys.last_seq)
            .invoke_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    async fn pools(&self) -> Result<Vec<PoolKey>, GateError> {
        let head = format!("{}{{pool:", self.prefix);
        let pattern = format!("{}*}}:meta", glob_escape(&head));
        let mut conn = self.conn.clone();
        let mut pools = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            pools.extend(keys.iter().filter_map(|key| {
                let key = key.strip_prefix(&head)?.strip_suffix("}:meta")?;
                Some(PoolKey(key.to_owned()))
            }));
            if next == 0 {
                return Ok(pools);
            }
            cursor = next;
        }
    }

    async fn grants(&self, pool: &PoolKey) -> Result<Vec<ActiveGrant>, GateError> {
        let keys = self.keys(pool);
        let mut conn = self.conn.clone();
        if !conn
            .exists::<_, bool>(&keys.meta)
            .await
            .map_err(unavailable)?
        {
            return Ok(Vec::new());
        }
        let mut grants = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, fields): (u64, Vec<(String, String)>) = redis::cmd("HSCAN")
                .arg(&keys.grants)
                .arg(cursor)
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            for (request_id, record) in fields {
                if let Some(grant) = active_grant(&request_id, &record) {
                    grants.push(grant);
                }
            }
            if next == 0 {
                return Ok(grants);
            }
            cursor = next;
        }
    }
}

/// Parses a `seq:qty:fingerprint:user:active:at` record; `None` unless active.
fn active_grant(request_id: &str, record: &str) -> Option<ActiveGrant> {
    let fields: Vec<&str> = record.split(':').collect();
    let [_seq, qty, _fingerprint, _user, "1", at] = fields.as_slice() else {
        return None;
    };
    Some(ActiveGrant {
        request_id: request_id.parse().ok()?,
        qty: qty.parse().ok()?,
        at: at.parse().ok()?,
    })
}

/// Escapes the characters that SCAN's MATCH pattern would read as wildcards.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn unavailable(e: RedisError) -> GateError {
    GateError::Unavailable(e.to_string())
}
