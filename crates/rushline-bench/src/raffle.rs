//! Raffles at size: entries through the group-commit writer (as `POST /drops/{id}/entries`
//! writes them, minus HTTP), then the draw of them all.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{TimeDelta, Utc};
use rushline_app::claims::Claims;
use rushline_app::raffles::hold_draw;
use rushline_domain::raffle::Seed;
use rushline_domain::{Role, Won};
use rushline_gate::MemoryGate;
use rushline_store::{ClaimWrite, CommitOutcome, NewEntry, User};
use rushline_testkit::TestDb;
use uuid::Uuid;

use crate::fixtures::{account, product, raffle_drop};

/// What one backend measured.
#[derive(Debug, Clone, Copy)]
pub struct RaffleFigures {
    pub entries: usize,
    pub entering: Duration,
    pub drawing: Duration,
}

impl RaffleFigures {
    pub fn entries_per_second(&self) -> f64 {
        self.entries as f64 / self.entering.as_secs_f64()
    }
}

/// `entries` buyers enter one raffle from `concurrency` tasks, then it is drawn; on SQLite, or on
/// PostgreSQL (`RUSHLINE_TEST_POSTGRES_URL`).
pub async fn run(
    postgres: bool,
    entries: usize,
    concurrency: usize,
) -> anyhow::Result<RaffleFigures> {
    let db = if postgres {
        TestDb::postgres()
            .await
            .context("RUSHLINE_TEST_POSTGRES_URL is not set")?
    } else {
        TestDb::sqlite().await
    };
    let store = Arc::clone(&db.store);
    let now = Utc::now();
    let seller = account(Role::Seller, "seller@raffle.bench".to_owned(), now);
    let buyers: Vec<User> = (0..entries)
        .map(|n| account(Role::Buyer, format!("entrant{n}@raffle.bench"), now))
        .collect();
    let product = product(seller.id, "Raffle sneakers", Won::new(189_000), now);
    let seed = fixed_seed();
    let drop = raffle_drop(&product, &seed, now);
    let setup = async {
        store.insert_user(&seller).await?;
        store.insert_users(&buyers).await?;
        store.insert_product(&product).await?;
        store.create_drop(&drop, Some(&seed), &[]).await
    };
    setup
        .await
        .map_err(|e| anyhow::anyhow!("set up the raffle: {e}"))?;

    let claims = Arc::new(Claims::new(
        Arc::new(MemoryGate::new(Arc::new(rushline_app::claims::StorePools(
            Arc::clone(&store),
        )))),
        Arc::clone(&store),
        TimeDelta::seconds(30),
    ));
    let buyers: Arc<Vec<Uuid>> = Arc::new(buyers.iter().map(|buyer| buyer.id).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (claims, buyers, next) =
                (Arc::clone(&claims), Arc::clone(&buyers), Arc::clone(&next));
            let raffle = drop.id;
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(buyer) = buyers.get(i) else {
                        return Ok(());
                    };
                    let write = ClaimWrite::Entry(NewEntry {
                        id: Uuid::now_v7(),
                        raffle_id: raffle,
                        user_id: *buyer,
                        idempotency_key: format!("entry-{i}"),
                        motivation: None,
                        entered_at: Utc::now(),
                    });
                    match claims.commit(write).await {
                        Ok(CommitOutcome::Committed) => {}
                        other => anyhow::bail!("entry {i} was not committed: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let entering = started.elapsed();
    let started = Instant::now();
    let drawn = hold_draw(&store, drop.id, Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("draw: {e:?}"))?;
    let drawing = started.elapsed();
    anyhow::ensure!(drawn == entries, "drew {drawn} of {entries} entries");
    Ok(RaffleFigures {
        entries,
        entering,
        drawing,
    })
}

/// The run's seed: fixed, as the draw costs the same whatever it is.
fn fixed_seed() -> Seed {
    let mut seed = [0; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::try_from(i).unwrap_or(0) ^ 0xA5;
    }
    seed
}
