use std::sync::LazyLock;

use ::redis::aio::ConnectionManager;
use ::redis::{AsyncCommands, RedisError, Script, ScriptInvocation};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{
    Admission, CATCH_UP, ExpiryReason, JoinOutcome, Params, RoomKey, RoomSpec, RoomStats,
    SCAN_BUDGET, Status, Ticket, TicketState, WaitingRoom, new_seed, span, time,
};
use crate::GateError;

const COMMON: &str = include_str!("redis/common.lua");

fn with_common(body: &str) -> Script {
    Script::new(&format!("{COMMON}\n{body}"))
}

static JOIN: LazyLock<Script> = LazyLock::new(|| with_common(include_str!("redis/join.lua")));
static STATUS: LazyLock<Script> = LazyLock::new(|| with_common(include_str!("redis/status.lua")));
static ADMIT: LazyLock<Script> = LazyLock::new(|| with_common(include_str!("redis/admit.lua")));
static STATS: LazyLock<Script> = LazyLock::new(|| with_common(include_str!("redis/stats.lua")));
static CONSUME: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("redis/consume.lua")));
static SHUFFLE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("redis/shuffle.lua")));

/// The answer of a script that found the opening shuffle still running.
const SHUFFLING: i64 = -1;

/// Pre-queue records one shuffle step scans: about 10 ms of Redis time per step on the 2-core
/// development machine (the whole of a 100,000-buyer pre-queue in one script took 1.2 s).
const SHUFFLE_STEP: u32 = 1_000;

/// Shuffle steps one call runs before giving up: 100 million pre-queue joiners, more than any
/// room holds, yet a bound if something keeps resetting the cursor.
const MAX_SHUFFLE_STEPS: usize = 100_000;

/// The waiting room shared by many nodes: every operation is one Lua script (the opening adds
/// a few short shuffle steps, once per room), so two nodes (or two hundred) on one Redis act as
/// one room, and admission stays atomic.
///
/// Keys, per room, all under the Redis Cluster hash tag `{room:<key>}`:
/// - `<prefix>{room:<key>}:meta`, a hash: `seed` and `opened` (set once, by the opening),
///   `cursor` (while the opening shuffle runs), `tat` (the next admission slot), `tickets`
///   (the last ticket given), `admitted`, `abandoned` and `used` (totals), `peak` (the longest
///   line);
/// - `<prefix>{room:<key>}:users`, a hash: user id → `<state>|<ticket>|<µs>|<joined µs>` (see
///   `redis/common.lua`);
/// - `<prefix>{room:<key>}:queue`, a sorted set, the line: the pre-queue as
///   `<sha1_hex(seed:user)>:<user>` with score 0 (so it sorts by the shuffle rule), later
///   arrivals as `<user>` with their ticket as score;
/// - `<prefix>{room:<key>}:passes`, a sorted set: user id → pass expiry (µs), the active passes;
/// - `<prefix>{room:<key>}:recent`, a sorted set: ticket → admission time (µs), the last minute;
/// - `<prefix>{room:<key>}:waits`, a hash: whole seconds waited → buyers admitted after that
///   wait, one field per distinct second (at most one per admission), for the median.
///
/// The opening records the seed in one script and then shuffles the pre-queue in steps of
/// [`SHUFFLE_STEP`] records (a shared `HSCAN` cursor in `meta`), so that a big pre-queue never
/// holds Redis, which the claim gate shares, for long at a time. An
/// operation that finds the shuffle running runs steps itself until the line is complete (every
/// node helps) and then goes on: no caller sees a half-shuffled line.
///
/// Nothing here expires by itself: the keys of a finished drop stay until deleted.
pub struct RedisRoom {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisRoom {
    /// `key_prefix` starts every key (e.g. `rushline:`), so that deployments and tests can
    /// share one Redis. It must not contain `{`, which would take the hash tag's place.
    pub fn new(conn: ConnectionManager, key_prefix: impl Into<String>) -> Self {
        let prefix = key_prefix.into();
        assert!(
            !prefix.contains('{'),
            "the key prefix must not contain a hash tag"
        );
        Self { conn, prefix }
    }

    fn base(&self, room: &RoomKey) -> String {
        format!("{}{{room:{}}}", self.prefix, room.0)
    }

    /// An invocation of `script` with the room's keys in the order every script expects.
    fn invocation<'a>(&self, script: &'a Script, room: &RoomKey) -> ScriptInvocation<'a> {
        let base = self.base(room);
        let mut invocation = script.prepare_invoke();
        for key in ["meta", "users", "queue", "passes", "recent", "waits"] {
            invocation.key(format!("{base}:{key}"));
        }
        invocation
    }

    /// An invocation of a script with the common head: now, opens_at, a seed candidate.
    fn with_spec<'a>(
        &self,
        script: &'a Script,
        room: &RoomKey,
        p: &Params,
    ) -> ScriptInvocation<'a> {
        let mut invocation = self.invocation(script, room);
        invocation.arg(p.now).arg(p.opens).arg(new_seed());
        invocation
    }

    /// Runs a script with the common head, completing the opening shuffle first when the
    /// script finds it running.
    async fn invoke(
        &self,
        room: &RoomKey,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<Vec<i64>, GateError> {
        let mut conn = self.conn.clone();
        // Once the shuffle is done it stays done; a third answer of "shuffling" means the
        // room's keys were deleted and the room opened again in between, twice.
        for _ in 0..3 {
            let reply: Vec<i64> = invocation
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if reply[..] != [SHUFFLING] {
                return Ok(reply);
            }
            self.shuffle(room, &mut conn).await?;
        }
        Err(GateError::Unavailable(format!(
            "room {}: still shuffling after the shuffle finished",
            room.0
        )))
    }

    async fn shuffle(&self, room: &RoomKey, conn: &mut ConnectionManager) -> Result<(), GateError> {
        let mut step = self.invocation(&SHUFFLE, room);
        step.arg(SHUFFLE_STEP);
        for _ in 0..MAX_SHUFFLE_STEPS {
            let done: i64 = step.invoke_async(conn).await.map_err(unavailable)?;
            if done == 1 {
                return Ok(());
            }
        }
        Err(GateError::Unavailable(format!(
            "room {}: the opening shuffle did not finish in {MAX_SHUFFLE_STEPS} steps",
            room.0
        )))
    }
}

#[async_trait]
impl WaitingRoom for RedisRoom {
    async fn join(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<JoinOutcome, GateError> {
        let p = Params::new(spec, now);
        let mut invocation = self.with_spec(&JOIN, room, &p);
        invocation
            .arg(user.to_string())
            .arg(p.idle)
            .arg(p.queue_opens);
        let reply = self.invoke(room, &invocation).await?;
        match reply.first() {
            Some(5) => Ok(JoinOutcome::NotOpenYet {
                queue_opens_at: time(p.queue_opens),
            }),
            _ => match place(&reply, &p)? {
                Status::InRoom(ticket) => Ok(JoinOutcome::Joined(ticket)),
                other => Err(bad_reply("join", &format!("{other:?}"))),
            },
        }
    }

    async fn status(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Status, GateError> {
        let p = Params::new(spec, now);
        let mut invocation = self.with_spec(&STATUS, room, &p);
        invocation.arg(user.to_string()).arg(p.idle);
        place(&self.invoke(room, &invocation).await?, &p)
    }

    async fn admit(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        now: DateTime<Utc>,
    ) -> Result<Admission, GateError> {
        let p = Params::new(spec, now);
        let mut invocation = self.with_spec(&ADMIT, room, &p);
        invocation
            .arg(p.rate)
            .arg(p.max_active.map_or(-1, i64::from))
            .arg(p.session)
            .arg(p.idle)
            .arg(span(CATCH_UP))
            .arg(SCAN_BUDGET);
        let reply = self.invoke(room, &invocation).await?;
        let [admitted, abandoned] = reply[..] else {
            return Err(bad_reply("admit", &format!("{reply:?}")));
        };
        Ok(Admission {
            admitted: u32::try_from(admitted).unwrap_or(0),
            abandoned: u32::try_from(abandoned).unwrap_or(0),
        })
    }

    async fn consume(
        &self,
        room: &RoomKey,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, GateError> {
        let mut invocation = self.invocation(&CONSUME, room);
        invocation.arg(now.timestamp_micros()).arg(user.to_string());
        let used: i64 = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(used == 1)
    }

    async fn stats(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        now: DateTime<Utc>,
    ) -> Result<RoomStats, GateError> {
        let p = Params::new(spec, now);
        let reply = self.invoke(room, &self.with_spec(&STATS, room, &p)).await?;
        let counts: Vec<u64> = reply
            .iter()
            .map(|&n| u64::try_from(n).unwrap_or(0))
            .collect();
        let [
            waiting,
            admitted,
            active,
            admitted_last_minute,
            abandoned,
            peak_waiting,
            used,
            _,
        ] = counts[..]
        else {
            return Err(bad_reply("stats", &format!("{reply:?}")));
        };
        Ok(RoomStats {
            waiting,
            admitted,
            active,
            admitted_last_minute,
            abandoned,
            peak_waiting,
            used,
            median_wait: (reply[7] >= 0).then(|| TimeDelta::seconds(reply[7])),
        })
    }

    async fn seed(&self, room: &RoomKey) -> Result<Option<String>, GateError> {
        self.conn
            .clone()
            .hget(format!("{}:meta", self.base(room)), "seed")
            .await
            .map_err(unavailable)
    }
}

/// Reads the `{code, ticket, …}` answer of the join and status scripts.
fn place(reply: &[i64], p: &Params) -> Result<Status, GateError> {
    let ticket = |reply: &[i64]| reply.get(1).and_then(|&t| u64::try_from(t).ok());
    let status = match (reply, ticket(reply)) {
        ([0], _) => Status::NotInQueue,
        ([1, _, position, last_minute, opened], Some(ticket)) => {
            let position = u64::try_from(*position).ok();
            let estimated_wait = position.and_then(|position| {
                p.estimate(position, u64::try_from(*last_minute).unwrap_or(0), *opened)
            });
            Status::InRoom(Ticket {
                ticket,
                state: TicketState::Waiting {
                    position,
                    estimated_wait,
                },
            })
        }
        ([2, _, expiry], Some(ticket)) => Status::InRoom(Ticket {
            ticket,
            state: TicketState::Admitted {
                pass_expires_at: time(*expiry),
            },
        }),
        ([3, _], Some(ticket)) => Status::Expired {
            ticket,
            reason: ExpiryReason::Abandoned,
        },
        ([4, _], Some(ticket)) => Status::Expired {
            ticket,
            reason: ExpiryReason::PassExpired,
        },
        _ => return Err(bad_reply("room", &format!("{reply:?}"))),
    };
    Ok(status)
}

fn bad_reply(script: &str, reply: &str) -> GateError {
    GateError::Unavailable(format!("{script} script answered {reply}"))
}

fn unavailable(e: RedisError) -> GateError {
    GateError::Unavailable(e.to_string())
}
