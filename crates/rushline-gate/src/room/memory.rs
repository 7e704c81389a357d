use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use dashmap::DashMap;
use sha1::{Digest, Sha1};
use uuid::Uuid;

use super::{
    Admission, CATCH_UP, ExpiryReason, JoinOutcome, MINUTE_US, Params, RoomKey, RoomSpec,
    RoomStats, SCAN_BUDGET, Status, Ticket, TicketState, WaitingRoom, interval, new_seed, span,
    time,
};
use crate::GateError;

/// The waiting room for a single process. Each room sits behind its own mutex, held only for
/// the few map and vector operations of one call and never across an await; rooms do not block
/// each other. Admission is not the hot path (the claim gate is), so a lock per room is enough.
///
/// A waiting place costs one `HashMap<Uuid, Entry>` slot (24-byte entry), the user's id in the
/// line's vector and a counter in a Fenwick tree that gives positions in O(log n) while places
/// drop out anywhere in the line: about 85–90 bytes per waiting buyer, measured. The opening
/// sorts the pre-queue under the room's lock (SHA-1 and a sort, about 70 ms per 100,000
/// joiners in a release build), holding up only that room.
#[derive(Default)]
pub struct MemoryRoom {
    rooms: DashMap<RoomKey, Arc<Mutex<Room>>>,
}

impl MemoryRoom {
    pub fn new() -> Self {
        Self::default()
    }

    fn room(&self, key: &RoomKey) -> Arc<Mutex<Room>> {
        self.rooms
            .get(key)
            .map(|room| Arc::clone(&room))
            .unwrap_or_else(|| Arc::clone(&self.rooms.entry(key.clone()).or_default()))
    }

    fn existing(&self, key: &RoomKey) -> Option<Arc<Mutex<Room>>> {
        self.rooms.get(key).map(|room| Arc::clone(&room))
    }
}

fn lock(room: &Mutex<Room>) -> Result<MutexGuard<'_, Room>, GateError> {
    // A panic inside a room's critical section is a bug that may have left it half-updated:
    // answer 503 for that room rather than act on it.
    room.lock()
        .map_err(|_| GateError::Unavailable("memory room: state poisoned by a panic".into()))
}

#[async_trait]
impl WaitingRoom for MemoryRoom {
    async fn join(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<JoinOutcome, GateError> {
        let p = Params::new(spec, now);
        let room = self.room(room);
        let mut room = lock(&room)?;
        Ok(room.join(&p, user))
    }

    async fn status(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Status, GateError> {
        let p = Params::new(spec, now);
        let room = self.room(room);
        let mut room = lock(&room)?;
        Ok(room.status(&p, user))
    }

    async fn admit(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        now: DateTime<Utc>,
    ) -> Result<Admission, GateError> {
        let p = Params::new(spec, now);
        let room = self.room(room);
        let mut room = lock(&room)?;
        Ok(room.admit(&p))
    }

    async fn consume(
        &self,
        room: &RoomKey,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, GateError> {
        let Some(room) = self.existing(room) else {
            return Ok(false);
        };
        let mut room = lock(&room)?;
        Ok(room.consume(now.timestamp_micros(), user))
    }

    async fn stats(
        &self,
        room: &RoomKey,
        spec: &RoomSpec,
        now: DateTime<Utc>,
    ) -> Result<RoomStats, GateError> {
        let p = Params::new(spec, now);
        let room = self.room(room);
        let mut room = lock(&room)?;
        Ok(room.stats(&p))
    }

    async fn seed(&self, room: &RoomKey) -> Result<Option<String>, GateError> {
        let Some(room) = self.existing(room) else {
            return Ok(None);
        };
        let room = lock(&room)?;
        Ok(room.opened.as_ref().map(|opened| opened.seed.to_string()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Joined before the opening; not in the line yet.
    Prequeue,
    /// In the line at `slot`; `at` is the last poll.
    Waiting,
    /// Holds a pass; `at` is its expiry.
    Admitted,
    /// Dropped by admission for not polling; said once, then removed.
    Abandoned,
}

/// Kept small on purpose: there is one per buyer in the room (32 bytes).
struct Entry {
    ticket: u64,
    /// µs since the epoch; what it is depends on the state.
    at: i64,
    /// When the place was taken (µs); its wait counts from here, or from the opening.
    joined: i64,
    slot: u32,
    state: State,
}

struct Opened {
    seed: Box<str>,
    at: i64,
}

#[derive(Default)]
struct Room {
    opened: Option<Opened>,
    tickets: u64,
    /// The next admission slot's time (µs).
    tat: i64,
    users: HashMap<Uuid, Entry>,
    line: Line,
    /// Buyers in the pre-queue, before the opening.
    prequeue: u64,
    /// Active passes by expiry.
    passes: BTreeSet<(i64, Uuid)>,
    /// Admissions of the last minute: (time, count) per admitting call.
    recent: VecDeque<(i64, u32)>,
    recent_count: u64,
    admitted: u64,
    abandoned: u64,
    peak_waiting: u64,
    used: u64,
    /// Admitted buyers by whole seconds waited.
    waits: BTreeMap<i64, u64>,
}

impl Room {
    fn open_if_due(&mut self, p: &Params) -> bool {
        if self.opened.is_some() {
            return true;
        }
        if p.now < p.opens {
            return false;
        }
        let seed = new_seed();
        // The rule in the module docs: SHA-1 digests compare bytewise as their hex does, and
        // uuids compare bytewise as their hyphenated lowercase form does.
        let mut prequeue: Vec<([u8; 20], Uuid)> = self
            .users
            .iter()
            .filter(|(_, entry)| entry.state == State::Prequeue)
            .map(|(user, _)| (shuffle_digest(&seed, user), *user))
            .collect();
        prequeue.sort_unstable();
        self.line.order.reserve_exact(prequeue.len());
        for (_, user) in prequeue {
            let slot = self.line.push(user);
            if let Some(entry) = self.users.get_mut(&user) {
                entry.state = State::Waiting;
                entry.slot = slot;
            }
        }
        tracing::info!(seed = %seed, shuffled = self.prequeue, "waiting room opened");
        self.prequeue = 0;
        self.tat = p.opens;
        self.opened = Some(Opened {
            seed: seed.into(),
            at: p.now,
        });
        true
    }

    fn join(&mut self, p: &Params, user: Uuid) -> JoinOutcome {
        let open = self.open_if_due(p);
        if !open && p.now < p.queue_opens {
            return JoinOutcome::NotOpenYet {
                queue_opens_at: time(p.queue_opens),
            };
        }
        if let Some(entry) = self.users.get_mut(&user) {
            match entry.state {
                State::Admitted if entry.at > p.now => {
                    return JoinOutcome::Joined(admitted(entry));
                }
                State::Prequeue | State::Waiting if !p.is_idle(entry.at) => {
                    entry.at = p.now;
                    let (ticket, state, slot) = (entry.ticket, entry.state, entry.slot);
                    return JoinOutcome::Joined(self.waiting(p, ticket, state, slot));
                }
                State::Prequeue | State::Waiting => self.drop_place(user),
                State::Admitted | State::Abandoned => {}
            }
        }
        self.tickets += 1;
        let ticket = self.tickets;
        let (state, slot) = if open {
            (State::Waiting, self.line.push(user))
        } else {
            self.prequeue += 1;
            (State::Prequeue, 0)
        };
        self.users.insert(
            user,
            Entry {
                ticket,
                at: p.now,
                joined: p.now,
                slot,
                state,
            },
        );
        let waiting = if open { self.line.len } else { self.prequeue };
        self.peak_waiting = self.peak_waiting.max(waiting);
        JoinOutcome::Joined(self.waiting(p, ticket, state, slot))
    }

    fn status(&mut self, p: &Params, user: Uuid) -> Status {
        self.open_if_due(p);
        let Some(entry) = self.users.get_mut(&user) else {
            return Status::NotInQueue;
        };
        let ticket = entry.ticket;
        match entry.state {
            State::Admitted if entry.at > p.now => Status::InRoom(admitted(entry)),
            State::Admitted => {
                self.users.remove(&user);
                Status::Expired {
                    ticket,
                    reason: ExpiryReason::PassExpired,
                }
            }
            State::Abandoned => {
                self.users.remove(&user);
                Status::Expired {
                    ticket,
                    reason: ExpiryReason::Abandoned,
                }
            }
            State::Prequeue | State::Waiting if p.is_idle(entry.at) => {
                self.drop_place(user);
                self.users.remove(&user);
                Status::Expired {
                    ticket,
                    reason: ExpiryReason::Abandoned,
                }
            }
            State::Prequeue | State::Waiting => {
                entry.at = p.now;
                let (state, slot) = (entry.state, entry.slot);
                Status::InRoom(self.waiting(p, ticket, state, slot))
            }
        }
    }

    fn admit(&mut self, p: &Params) -> Admission {
        let mut done = Admission::default();
        if !self.open_if_due(p) {
            return done;
        }
        self.prune(p.now);
        if p.rate == 0 {
            return done;
        }
        let interval = interval(p.rate);
        let tat = self.tat.max(p.now - span(CATCH_UP));
        if tat > p.now {
            return done;
        }
        let mut due = (p.now - tat) / interval + 1;
        if let Some(max) = p.max_active {
            let free = i64::from(max) - i64::try_from(self.passes.len()).unwrap_or(i64::MAX);
            due = due.min(free);
        }
        let (mut admitted, mut scanned) = (0i64, 0);
        while admitted < due && scanned < SCAN_BUDGET {
            let Some((slot, user)) = self.line.pop_front() else {
                break;
            };
            scanned += 1;
            let Some(entry) = self.users.get_mut(&user) else {
                continue;
            };
            if entry.state != State::Waiting || entry.slot != slot {
                // A place dropped earlier; its holder has moved on.
                continue;
            }
            self.line.remove(slot);
            if p.is_idle(entry.at) {
                entry.state = State::Abandoned;
                done.abandoned += 1;
            } else {
                let waited = (p.now - entry.joined.max(p.opens)) / 1_000_000;
                *self.waits.entry(waited).or_default() += 1;
                entry.state = State::Admitted;
                entry.at = p.now + p.session;
                self.passes.insert((entry.at, user));
                admitted += 1;
            }
        }
        self.tat = tat + admitted * interval;
        done.admitted = u32::try_from(admitted).unwrap_or(u32::MAX);
        if done.admitted > 0 {
            self.recent.push_back((p.now, done.admitted));
            self.recent_count += u64::from(done.admitted);
            self.admitted += u64::from(done.admitted);
        }
        self.abandoned += u64::from(done.abandoned);
        self.line.compact(&mut self.users);
        done
    }

    fn consume(&mut self, now: i64, user: Uuid) -> bool {
        let Some(entry) = self.users.get(&user) else {
            return false;
        };
        if entry.state != State::Admitted || entry.at <= now {
            return false;
        }
        self.passes.remove(&(entry.at, user));
        self.users.remove(&user);
        self.used += 1;
        true
    }

    fn stats(&mut self, p: &Params) -> RoomStats {
        let open = self.open_if_due(p);
        self.prune(p.now);
        RoomStats {
            waiting: if open { self.line.len } else { self.prequeue },
            admitted: self.admitted,
            active: self.passes.len() as u64,
            admitted_last_minute: self.recent_count,
            abandoned: self.abandoned,
            peak_waiting: self.peak_waiting,
            used: self.used,
            median_wait: self.median_wait(),
        }
    }

    /// The lower median of the admitted buyers' waits.
    fn median_wait(&self) -> Option<TimeDelta> {
        let middle = self.waits.values().sum::<u64>().div_ceil(2);
        let mut counted = 0;
        self.waits.iter().find_map(|(&seconds, &n)| {
            counted += n;
            (counted >= middle && middle > 0).then(|| TimeDelta::seconds(seconds))
        })
    }

    /// Forgets expired passes and admissions older than a minute.
    fn prune(&mut self, now: i64) {
        while self
            .passes
            .first()
            .is_some_and(|&(expiry, _)| expiry <= now)
        {
            self.passes.pop_first();
        }
        while let Some(&(at, count)) = self.recent.front() {
            if at > now - MINUTE_US {
                break;
            }
            self.recent.pop_front();
            self.recent_count -= u64::from(count);
        }
    }

    /// Takes a waiting or pre-queue place out of line as abandoned; the entry stays.
    fn drop_place(&mut self, user: Uuid) {
        let Some(entry) = self.users.get(&user) else {
            return;
        };
        match entry.state {
            State::Prequeue => self.prequeue -= 1,
            State::Waiting => self.line.remove(entry.slot),
            State::Admitted | State::Abandoned => return,
        }
        self.abandoned += 1;
    }

    fn waiting(&mut self, p: &Params, ticket: u64, state: State, slot: u32) -> Ticket {
        let (position, estimated_wait) = match (&self.opened, state) {
            (Some(opened), State::Waiting) => {
                let opened_at = opened.at;
                self.prune(p.now);
                let position = self.line.position(slot);
                (
                    Some(position),
                    p.estimate(position, self.recent_count, opened_at),
                )
            }
            _ => (None, None),
        };
        Ticket {
            ticket,
            state: TicketState::Waiting {
                position,
                estimated_wait,
            },
        }
    }
}

fn admitted(entry: &Entry) -> Ticket {
    Ticket {
        ticket: entry.ticket,
        state: TicketState::Admitted {
            pass_expires_at: time(entry.at),
        },
    }
}

fn shuffle_digest(seed: &str, user: &Uuid) -> [u8; 20] {
    let mut hasher = Sha1::new();
    hasher.update(seed.as_bytes());
    hasher.update(b":");
    hasher.update(
        user.hyphenated()
            .encode_lower(&mut Uuid::encode_buffer())
            .as_bytes(),
    );
    hasher.finalize().into()
}

/// The line after the opening: users by slot, in admission order. Slots before `head` have
/// been passed by admission; `live` counts the places still held, so that a position is the
/// number of held slots up to one's own.
#[derive(Default)]
struct Line {
    order: Vec<Uuid>,
    live: Fenwick,
    head: usize,
    /// Places still held.
    len: u64,
}

/// Below this many passed slots the line is not worth compacting.
const COMPACT_AFTER: usize = 4_096;

impl Line {
    #[expect(clippy::expect_used, reason = "a room sees fewer than 2^32 joins")]
    fn push(&mut self, user: Uuid) -> u32 {
        let slot = self.order.len();
        self.order.push(user);
        self.live.push(1);
        self.len += 1;
        u32::try_from(slot).expect("fewer than 2^32 joins in one room")
    }

    fn pop_front(&mut self) -> Option<(u32, Uuid)> {
        let user = *self.order.get(self.head)?;
        let slot = u32::try_from(self.head).unwrap_or(u32::MAX);
        self.head += 1;
        Some((slot, user))
    }

    /// Marks a held place as no longer held.
    fn remove(&mut self, slot: u32) {
        self.live.add(slot as usize, -1);
        self.len -= 1;
    }

    fn position(&self, slot: u32) -> u64 {
        u64::from(self.live.prefix(slot as usize + 1))
    }

    /// Drops the passed slots once they are half the vector, renumbering the held places.
    fn compact(&mut self, users: &mut HashMap<Uuid, Entry>) {
        if self.head < COMPACT_AFTER || self.head * 2 < self.order.len() {
            return;
        }
        let head = self.head;
        self.order.drain(..head);
        self.head = 0;
        let mut live = Vec::with_capacity(self.order.len());
        for (slot, user) in self.order.iter().enumerate() {
            let held = users.get_mut(user).is_some_and(|entry| {
                let held = entry.state == State::Waiting && entry.slot as usize == slot + head;
                if held {
                    entry.slot = u32::try_from(slot).unwrap_or(u32::MAX);
                }
                held
            });
            live.push(u32::from(held));
        }
        self.order.shrink_to(self.order.len() * 2);
        self.live = Fenwick::from_values(live);
    }
}

/// A Fenwick (binary indexed) tree of counts that can grow at the end.
#[derive(Default)]
struct Fenwick(Vec<u32>);

impl Fenwick {
    fn from_values(mut tree: Vec<u32>) -> Self {
        for i in 1..=tree.len() {
            let parent = i + (i & i.wrapping_neg());
            if parent <= tree.len() {
                tree[parent - 1] += tree[i - 1];
            }
        }
        Self(tree)
    }

    /// Appends one value.
    fn push(&mut self, value: u32) {
        // Node i (1-based) sums the values in (i - lowbit(i), i].
        let i = self.0.len() + 1;
        let low = i & i.wrapping_neg();
        let node = value + self.prefix(i - 1) - self.prefix(i - low);
        self.0.push(node);
    }

    /// Adds `delta` to the value at `index` (0-based).
    fn add(&mut self, index: usize, delta: i32) {
        let mut i = index + 1;
        while i <= self.0.len() {
            self.0[i - 1] = self.0[i - 1].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// The sum of the first `count` values.
    fn prefix(&self, count: usize) -> u32 {
        let (mut i, mut sum) = (count, 0u32);
        while i > 0 {
            sum += self.0[i - 1];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::Fenwick;

    #[test]
    fn fenwick_grows_and_counts() {
        let mut tree = Fenwick::default();
        let mut values = Vec::new();
        for i in 0..1_000u32 {
            let v = i % 3;
            tree.push(v);
            values.push(v);
        }
        for i in (0..1_000).step_by(7) {
            tree.add(i, -(values[i] as i32));
            values[i] = 0;
        }
        let rebuilt = Fenwick::from_values(values.clone());
        for count in 0..=values.len() {
            let expected: u32 = values[..count].iter().sum();
            assert_eq!(tree.prefix(count), expected);
            assert_eq!(rebuilt.prefix(count), expected);
        }
    }
}
