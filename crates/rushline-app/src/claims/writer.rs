//! The group-commit writer: one task per process that writes granted claims in batches.

use std::sync::Arc;
use std::time::Instant;

use rushline_store::{ClaimWrite, CommitOutcome, DbError, Store};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, Span};

/// The most writes one batch commits: bounded by the bind parameters one SQLite statement takes.
const MAX_BATCH: usize = 512;

#[expect(
    clippy::large_enum_variant,
    reason = "all but the rare flush are writes: boxing them would allocate once per purchase"
)]
enum Pending {
    Write {
        write: ClaimWrite,
        reply: oneshot::Sender<Result<CommitOutcome, DbError>>,
        /// The request's wait for its batch, which the batch's span links to.
        waiting: Span,
    },
    /// Answered once every write queued before it has committed (or failed).
    Flush(oneshot::Sender<()>),
}

/// The group-commit writer: one task per process that writes granted claims in batches, one
/// transaction per batch, and answers each waiting request only after its batch committed.
///
/// Batches form by themselves: while one batch commits, new grants queue, and the next batch
/// takes everything queued (up to [`MAX_BATCH`]). An idle writer commits a lone grant at once,
/// so batching never adds latency, and under load one fsync serves hundreds of orders.
#[derive(Clone)]
pub(super) struct ClaimWriter {
    queue: mpsc::Sender<Pending>,
}

impl ClaimWriter {
    /// Starts the writer task; it stops once every handle is dropped and the queue is drained.
    pub(super) fn start(store: Arc<dyn Store>) -> Self {
        let (queue, pending) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(store, pending));
        Self { queue }
    }

    /// Makes `write` durable; returns once its batch has committed (or failed). The batch's
    /// span follows from `waiting`.
    pub(super) async fn commit(
        &self,
        write: ClaimWrite,
        waiting: Span,
    ) -> Result<CommitOutcome, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending::Write {
                write,
                reply,
                waiting,
            })
            .await
            .map_err(|_| DbError::Unavailable("the group-commit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbError::Unavailable("the group-commit writer has stopped".into()))?
    }

    /// Returns once every write queued before the call is committed or failed: a node that
    /// shuts down calls it after its last request, so that writes whose request went away
    /// (timed out) still commit before the process exits.
    pub(super) async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.queue.send(Pending::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

async fn run(store: Arc<dyn Store>, mut pending: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut writes = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut flushes = Vec::new();
        // Only traced requests have a span to link to (no allocation otherwise).
        let mut traced = Vec::new();
        for message in batch.drain(..) {
            match message {
                Pending::Write {
                    write,
                    reply,
                    waiting,
                } => {
                    if !waiting.is_disabled() {
                        traced.push(waiting);
                    }
                    writes.push(write);
                    replies.push(reply);
                }
                Pending::Flush(done) => flushes.push(done),
            }
        }
        if writes.is_empty() {
            answer_flushes(flushes);
            continue;
        }
        let span = tracing::debug_span!("group_commit.batch", writes = writes.len());
        for waiting in &traced {
            span.follows_from(waiting);
        }
        let started = Instant::now();
        let committed = store.commit_claims(&writes).instrument(span).await;
        metrics::histogram!("rushline_group_commit_batch_size").record(writes.len() as f64);
        metrics::histogram!("rushline_group_commit_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        for (reply, outcome) in replies.into_iter().zip(committed) {
            if let Err(e) = &outcome {
                tracing::error!(error = %e, "a write of the group commit failed");
            }
            let _ = reply.send(outcome);
        }
        answer_flushes(flushes);
    }
}

/// Tells each flush that the writes queued before it are done.
fn answer_flushes(flushes: Vec<oneshot::Sender<()>>) {
    for done in flushes {
        let _ = done.send(());
    }
}
