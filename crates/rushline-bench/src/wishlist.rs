//! A wishlist alert at size: one product wishlisted by many buyers, its drop scheduled, and the
//! `notify` fan-out of `wishlist_drop_scheduled` to them all, timed; meanwhile the group-commit
//! writer (the purchase path's durable write, here raffle entries of another drop) keeps
//! committing, and its rate and latency are compared with a baseline of the same load just
//! before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{TimeDelta, Utc};
use rushline_app::claims::Claims;
use rushline_domain::notification::Event;
use rushline_domain::{Role, Won};
use rushline_gate::MemoryGate;
use rushline_store::{Audience, ClaimWrite, CommitOutcome, FanOut, NewEntry, Store, User};
use rushline_testkit::TestDb;
use uuid::Uuid;

use crate::fixtures::{account, product, raffle_drop};

/// The commits of one phase.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub commits: usize,
    pub elapsed: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Load {
    pub fn per_second(&self) -> f64 {
        self.commits as f64 / self.elapsed.as_secs_f64()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WishlistFigures {
    pub wishers: usize,
    pub fan_out: Duration,
    pub written: u64,
    pub baseline: Load,
    pub during: Load,
}

/// `wishers` buyers wishlist one product; the fan-out of its drop's alert runs while
/// `concurrency` tasks commit through the group-commit writer; on SQLite, or on PostgreSQL.
pub async fn run(
    postgres: bool,
    wishers: usize,
    concurrency: usize,
) -> anyhow::Result<WishlistFigures> {
    let db = if postgres {
        TestDb::postgres()
            .await
            .context("RUSHLINE_TEST_POSTGRES_URL is not set")?
    } else {
        TestDb::sqlite().await
    };
    let store = Arc::clone(&db.store);
    let now = Utc::now();
    let seller = account(Role::Seller, "seller@wishlist.bench".to_owned(), now);
    let buyers: Vec<User> = (0..wishers)
        .map(|n| account(Role::Buyer, format!("wisher{n}@wishlist.bench"), now))
        .collect();
    // Who commits meanwhile: one entry each, more of them than both phases take (the baseline
    // alone has taken 180,000 on SQLite).
    let entrants: Vec<User> = (0..wishers * 4)
        .map(|n| account(Role::Buyer, format!("entrant{n}@wishlist.bench"), now))
        .collect();
    let wanted = product(seller.id, "Wanted sneakers", Won::new(189_000), now);
    let other = product(seller.id, "Busy sneakers", Won::new(189_000), now);
    let seed = [7; 32];
    // The load: entries into a raffle of another product, through the same writer as purchases.
    let busy = raffle_drop(&other, &seed, now);
    let setup = async {
        store.insert_user(&seller).await?;
        store.insert_users(&buyers).await?;
        store.insert_users(&entrants).await?;
        store.insert_product(&wanted).await?;
        store.insert_product(&other).await?;
        store.create_drop(&busy, Some(&seed), &[]).await
    };
    setup.await.map_err(|e| anyhow::anyhow!("set up: {e}"))?;
    let ids: Arc<Vec<Uuid>> = Arc::new(buyers.iter().map(|buyer| buyer.id).collect());
    wish_all(&store, &ids, wanted.id, concurrency).await?;

    let claims = Arc::new(Claims::new(
        Arc::new(MemoryGate::new(Arc::new(rushline_app::claims::StorePools(
            Arc::clone(&store),
        )))),
        Arc::clone(&store),
        TimeDelta::seconds(30),
    ));
    let entrants: Arc<Vec<Uuid>> = Arc::new(entrants.iter().map(|user| user.id).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let baseline = load(&claims, &entrants, busy.id, &next, concurrency, async {
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await?;
    let fan_out = FanOut {
        event: Event::WishlistDropScheduled,
        audience: Audience::Wishers { product: wanted.id },
        subject: Uuid::now_v7().to_string(),
        params: [
            ("title".to_owned(), wanted.name.clone()),
            ("opens_at".to_owned(), "2026-12-24 09:00 UTC".to_owned()),
        ]
        .into(),
    };
    let mut fanned = None;
    let during = load(&claims, &entrants, busy.id, &next, concurrency, async {
        let started = Instant::now();
        let written = store.fan_out(&fan_out, Utc::now()).await;
        fanned = Some((written, started.elapsed()));
    })
    .await?;
    let (written, fan_out) = fanned.context("the fan-out ran")?;
    let written = written.map_err(|e| anyhow::anyhow!("fan-out: {e}"))?;
    anyhow::ensure!(written == wishers as u64, "told {written} of {wishers}");
    Ok(WishlistFigures {
        wishers,
        fan_out,
        written,
        baseline,
        during,
    })
}

async fn wish_all(
    store: &Arc<dyn Store>,
    ids: &Arc<Vec<Uuid>>,
    product: Uuid,
    concurrency: usize,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (store, ids, next) = (Arc::clone(store), Arc::clone(ids), Arc::clone(&next));
            tokio::spawn(async move {
                while let Some(buyer) = ids.get(next.fetch_add(1, Ordering::Relaxed)) {
                    store
                        .wish(*buyer, product, 500, Utc::now())
                        .await
                        .map_err(|e| anyhow::anyhow!("wish: {e}"))?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// Commits entries from `concurrency` tasks until `phase` is over.
async fn load(
    claims: &Arc<Claims>,
    ids: &Arc<Vec<Uuid>>,
    raffle: Uuid,
    next: &Arc<AtomicUsize>,
    concurrency: usize,
    phase: impl Future<Output = ()>,
) -> anyhow::Result<Load> {
    let over = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (claims, ids, next, over) = (
                Arc::clone(claims),
                Arc::clone(ids),
                Arc::clone(next),
                Arc::clone(&over),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !over.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(buyer) = ids.get(i) else { break };
                    let write = ClaimWrite::Entry(NewEntry {
                        id: Uuid::now_v7(),
                        raffle_id: raffle,
                        user_id: *buyer,
                        idempotency_key: format!("entry-{i}"),
                        motivation: None,
                        entered_at: Utc::now(),
                    });
                    let sent = Instant::now();
                    match claims.commit(write).await {
                        Ok(CommitOutcome::Committed) => latencies.push(sent.elapsed()),
                        other => anyhow::bail!("entry {i} was not committed: {other:?}"),
                    }
                }
                Ok(latencies)
            })
        })
        .collect();
    phase.await;
    over.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(Load {
        commits: latencies.len(),
        elapsed,
        p99: at(0.99),
        max: latencies.last().copied().unwrap_or_default(),
    })
}
