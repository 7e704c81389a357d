//! The group-commit writer: one task per process that writes granted claims in batches.

use std::sync::Arc;
use std::time::Instant;

use rushline_store::{ClaimWrite, CommitOutcome, DbError, Store};
use tokio::sync::{mpsc, oneshot};

/// The most writes one batch commits: bounded by the bind parameters one SQLite statement takes.
const MAX_BATCH: usize = 512;

struct Pending {
    write: ClaimWrite,
    reply: oneshot::Sender<Result<CommitOutcome, DbError>>,
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

    /// Makes `write` durable; returns once its batch has committed (or failed).
    pub(super) async fn commit(&self, write: ClaimWrite) -> Result<CommitOutcome, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { write, reply })
            .await
            .map_err(|_| DbError::Unavailable("the group-commit writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbError::Unavailable("the group-commit writer has stopped".into()))?
    }
}

async fn run(store: Arc<dyn Store>, mut pending: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while pending.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (writes, replies): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|p| (p.write, p.reply)).unzip();
        let started = Instant::now();
        let committed = store.commit_claims(&writes).await;
        metrics::histogram!("rushline_group_commit_batch_size").record(writes.len() as f64);
        metrics::histogram!("rushline_group_commit_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        for (reply, outcome) in replies.into_iter().zip(committed) {
            if let Err(e) = &outcome {
                tracing::error!(error = %e, "a write of the group commit failed");
            }
            let _ = reply.send(outcome);
        }
    }
}
