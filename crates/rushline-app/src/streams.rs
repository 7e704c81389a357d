//! Open event streams of a node, counted per user: each holds a connection and wakes up to poll,
//! so one user may hold only so many at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;
use uuid::Uuid;

use crate::{AppError, ErrorCode};

/// The streams of one kind (`/queue/events`, `/me/notifications/events`) open on this node.
pub struct Streams {
    /// The gauge counting them.
    gauge: &'static str,
    per_user: usize,
    open: Arc<AtomicUsize>,
    by_user: Arc<DashMap<Uuid, usize>>,
}

impl Streams {
    pub fn new(gauge: &'static str, per_user: usize) -> Self {
        Self {
            gauge,
            per_user,
            open: Arc::default(),
            by_user: Arc::default(),
        }
    }

    /// Counts an open stream of `user` until the guard is dropped with the stream; 429
    /// `too_many_streams` when the user has as many open on this node as one may.
    pub fn open(&self, user: Uuid) -> Result<StreamGuard, AppError> {
        {
            let mut open = self.by_user.entry(user).or_insert(0);
            if *open >= self.per_user {
                return Err(AppError::new(
                    ErrorCode::TooManyStreams,
                    format!(
                        "at most {} event streams of this kind per account: close one first",
                        self.per_user
                    ),
                ));
            }
            *open += 1;
        }
        self.open.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!(self.gauge).increment(1.0);
        Ok(StreamGuard {
            user,
            gauge: self.gauge,
            open: self.open.clone(),
            by_user: self.by_user.clone(),
        })
    }

    /// How many are open on this node.
    pub fn count(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

pub struct StreamGuard {
    user: Uuid,
    gauge: &'static str,
    open: Arc<AtomicUsize>,
    by_user: Arc<DashMap<Uuid, usize>>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        // The last stream of a user removes the entry: the map holds only users streaming now.
        self.by_user.remove_if_mut(&self.user, |_, open| {
            *open -= 1;
            *open == 0
        });
        metrics::gauge!(self.gauge).decrement(1.0);
    }
}
