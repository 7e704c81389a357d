use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_gate::room::{
    JoinOutcome, MemoryRoom, RedisRoom, RoomKey, RoomSpec, Status, Ticket, TicketState, WaitingRoom,
};
use rushline_testkit::TestRedis;
use sha1::{Digest, Sha1};
use uuid::Uuid;

/// What a conformance case gets: a way to build the backend under test. Cases call it once;
/// on Redis a second call would be a second node on the same room.
pub type NewRoom = dyn Fn() -> Arc<dyn WaitingRoom>;

pub fn memory() -> Box<NewRoom> {
    Box::new(|| Arc::new(MemoryRoom::new()))
}

/// The room under test on the shared Redis, under the test's own key prefix.
pub async fn redis_room(redis: &TestRedis) -> Box<NewRoom> {
    let (conn, prefix) = (redis.connection().await.unwrap(), redis.prefix.clone());
    Box::new(move || Arc::new(RedisRoom::new(conn.clone(), prefix.clone())))
}

/// Another node: a room over a connection of its own, on the same keys.
pub async fn node(redis: &TestRedis) -> Arc<dyn WaitingRoom> {
    let conn = redis.connection().await.unwrap();
    Arc::new(RedisRoom::new(conn, redis.prefix.clone()))
}

pub fn key() -> RoomKey {
    RoomKey("drop:0192f0c1-room".into())
}

/// When the test rooms open.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T12:00:00Z")
        .unwrap()
        .to_utc()
}

pub fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

pub fn at(s: i64) -> DateTime<Utc> {
    t0() + secs(s)
}

pub fn spec(admit_per_minute: u32) -> RoomSpec {
    RoomSpec::new(t0(), admit_per_minute)
}

/// A spec whose waiting buyers never go idle, for tests about something else.
pub fn patient(admit_per_minute: u32) -> RoomSpec {
    RoomSpec {
        idle_timeout: TimeDelta::hours(24),
        ..spec(admit_per_minute)
    }
}

pub fn users(n: usize) -> Vec<Uuid> {
    (0..n).map(|_| Uuid::new_v4()).collect()
}

pub async fn join(
    room: &dyn WaitingRoom,
    spec: &RoomSpec,
    user: Uuid,
    now: DateTime<Utc>,
) -> Ticket {
    match room.join(&key(), spec, user, now).await.unwrap() {
        JoinOutcome::Joined(ticket) => ticket,
        other => panic!("join at {now}: {other:?}"),
    }
}

pub async fn ticket(
    room: &dyn WaitingRoom,
    spec: &RoomSpec,
    user: Uuid,
    now: DateTime<Utc>,
) -> Ticket {
    match room.status(&key(), spec, user, now).await.unwrap() {
        Status::InRoom(ticket) => ticket,
        other => panic!("status at {now}: {other:?}"),
    }
}

pub fn position(ticket: &Ticket) -> Option<u64> {
    match ticket.state {
        TicketState::Waiting { position, .. } => position,
        TicketState::Admitted { .. } => None,
    }
}

pub fn is_admitted(ticket: &Ticket) -> bool {
    matches!(ticket.state, TicketState::Admitted { .. })
}

/// The shuffle rule as the room's documentation states it, computed here independently:
/// sort `sha1_hex(seed + ":" + user_id) + ":" + user_id` bytewise.
pub fn documented_shuffle(seed: &str, users: &[Uuid]) -> Vec<Uuid> {
    let mut keyed: Vec<(String, Uuid)> = users
        .iter()
        .map(|user| {
            let digest = Sha1::digest(format!("{seed}:{user}").as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (format!("{hex}:{user}"), *user)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, user)| user).collect()
}

/// A small deterministic generator for irregular clock steps.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_in(&mut self, low: i64, high: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + (self.0 % (high - low + 1) as u64) as i64
    }
}
