//! Raffles: entries through the group commit, the close that holds off late entries, the draw's
//! record, and the sweep that offers places down the order.

use std::sync::Arc;

use chrono::Duration;
use rushline_domain::notification::{Event, Params};
use rushline_domain::raffle::{Seed, draw_order, seed_commitment};
use rushline_domain::{Allocation, Role, Won};
use uuid::Uuid;

use super::catalog::seller_with_product;
use super::drops::commit;
use super::jobs::t0;
use super::users::user;
use crate::{
    Audience, ClaimWrite, CommitOutcome, FanOut, NewEntry, NewJob, ProductDrop, RaffleSettings,
    RaffleSweep, Store,
};

const ENTRANTS: u128 = 100_000;
const UNITS: i64 = 1_000;

/// Entry ids that do not follow the order of entry, the same on every run.
fn entry_id(i: u128) -> Uuid {
    Uuid::from_u128(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) ^ 0x5A5A)
}

fn entry(drop: &ProductDrop, id: Uuid, user_id: Uuid) -> ClaimWrite {
    ClaimWrite::Entry(NewEntry {
        id,
        raffle_id: drop.id,
        user_id,
        idempotency_key: format!("k-{id}"),
        motivation: None,
        entered_at: drop.opens_at,
    })
}

/// 100,000 entries for 1,000 units, a fixed seed: the entrants come back in canonical order,
/// the recorded draw is the domain's, the same on every backend (pinned), nobody holds two
/// places, and the first sweep offers exactly as many places as the units serve.
pub async fn raffles_a_hundred_thousand_entries_draw_alike_on_every_backend(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 100_000, 0).await;
    let seed: Seed = [42; 32];
    let opens_at = t0() + Duration::hours(1);
    let entries_close_at = opens_at + Duration::minutes(10);
    let drop = ProductDrop {
        id: Uuid::now_v7(),
        product_id: product.id,
        seller_id: product.seller_id,
        quantity: UNITS,
        price: Won::new(89_000),
        opens_at,
        closes_at: opens_at + Duration::hours(2),
        per_user_limit: 1,
        created_at: t0(),
        updated_at: t0(),
        opened_at: None,
        closed_at: None,
        waiting_room: None,
        queue_seed: None,
        allocation: Allocation::Raffle,
        raffle: Some(RaffleSettings {
            entries_close_at,
            claim_window_minutes: Some(60),
            seed_commitment: seed_commitment(&seed),
            drawn_at: None,
            entrants: None,
            exhausted_at: None,
        }),
    };
    store.create_drop(&drop, Some(&seed), &[]).await.unwrap();
    let read = store.drop_by_id(drop.id).await.unwrap();
    assert_eq!(
        read, drop,
        "the drop and its raffle round-trip, without the seed"
    );
    assert_eq!(
        store.revealed_seed(drop.id).await.unwrap(),
        None,
        "secret until drawn"
    );

    let users: Vec<_> = (0..ENTRANTS)
        .map(|i| {
            user(
                &format!("entrant-{i}-{}@raffle.example", drop.id),
                Role::Buyer,
            )
        })
        .collect();
    store.insert_users(&users).await.unwrap();
    let writes: Vec<ClaimWrite> = users
        .iter()
        .zip(0..)
        .map(|(user, i)| entry(&drop, entry_id(i), user.id))
        .collect();
    for batch in writes.chunks(512) {
        let outcomes = commit(&store, batch).await;
        assert!(outcomes.iter().all(|o| *o == CommitOutcome::Committed));
    }
    // A retry, and a second entry of one buyer under another key.
    assert_eq!(
        commit(&store, &writes[..1]).await,
        [CommitOutcome::Duplicate]
    );
    assert_eq!(
        commit(&store, &[entry(&drop, Uuid::now_v7(), users[1].id)]).await,
        [CommitOutcome::AlreadyEntered]
    );

    assert_eq!(
        store
            .close_entries(drop.id, entries_close_at)
            .await
            .unwrap(),
        seed
    );
    let late = user(&format!("late-{}@raffle.example", drop.id), Role::Buyer);
    store.insert_user(&late).await.unwrap();
    assert_eq!(
        commit(&store, &[entry(&drop, Uuid::now_v7(), late.id)]).await,
        [CommitOutcome::EntriesClosed]
    );

    let entrants = store.raffle_entrants(drop.id).await.unwrap();
    let ids: Vec<Uuid> = entrants.iter().map(|(id, _)| *id).collect();
    let mut canonical: Vec<Uuid> = (0..ENTRANTS).map(entry_id).collect();
    canonical.sort();
    assert_eq!(
        ids, canonical,
        "canonical order: ascending ids, as Rust sorts UUIDs"
    );
    let users_of: std::collections::HashMap<Uuid, Uuid> = entrants.iter().copied().collect();
    let order: Vec<(Uuid, Uuid)> = draw_order(&seed, &ids)
        .into_iter()
        .map(|id| (id, users_of[&id]))
        .collect();
    store
        .record_draw(drop.id, &order, entries_close_at)
        .await
        .unwrap();
    // A second draw (another node's) changes nothing.
    let mut reversed = order.clone();
    reversed.reverse();
    store
        .record_draw(drop.id, &reversed, entries_close_at + Duration::seconds(1))
        .await
        .unwrap();
    let drawn = store.drop_by_id(drop.id).await.unwrap();
    let raffle = drawn.raffle.unwrap();
    assert_eq!(raffle.drawn_at, Some(entries_close_at));
    assert_eq!(raffle.entrants, Some(ENTRANTS as i64));
    assert_eq!(store.revealed_seed(drop.id).await.unwrap(), Some(seed));

    let mut recorded = Vec::new();
    while recorded.len() < order.len() {
        let page = store
            .draw_page(drop.id, recorded.len() as i64, 10_000)
            .await
            .unwrap();
        assert!(!page.is_empty());
        recorded.extend(page);
    }
    assert_eq!(
        recorded,
        order.iter().map(|(id, _)| *id).collect::<Vec<_>>()
    );
    // Pinned: the same seed and entries give this order on every backend and every build.
    assert_eq!(
        recorded[..3]
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>(),
        PINNED_FIRST_THREE,
    );
    let first_page = store.entrants_page(drop.id, None, 3).await.unwrap();
    assert_eq!(first_page, canonical[..3]);
    let next = store
        .entrants_page(drop.id, Some(first_page[2]), 2)
        .await
        .unwrap();
    assert_eq!(next, canonical[3..5]);

    let sweep = RaffleSweep {
        raffle_id: drop.id,
        pool_key: drop.pool_key(),
        per_user_limit: 1,
        now: entries_close_at,
        claim_until: entries_close_at + Duration::minutes(60),
        offers_end_at: drop.closes_at,
        offers: NewJob::new("notify", serde_json::json!({"offers": 1}), entries_close_at),
        lost: NewJob::new("notify", serde_json::json!({"lost": 1}), entries_close_at),
    };
    let swept = store.sweep_raffle(&sweep).await.unwrap();
    assert_eq!((swept.offered, swept.exhausted), (UNITS as u64, false));
    assert_eq!(
        store.sweep_raffle(&sweep).await.unwrap().offered,
        0,
        "nothing is free"
    );
    // Those offered a place, and the rest, are told set-based.
    let tell = |event, audience| FanOut {
        event,
        audience,
        subject: drop.id.to_string(),
        params: Params::new(),
    };
    let offered = Audience::RaffleOffered {
        raffle: drop.id,
        at: entries_close_at,
    };
    let losers = Audience::RaffleLosers { raffle: drop.id };
    assert_eq!(
        store
            .fan_out(&tell(Event::RaffleWon, offered), entries_close_at)
            .await
            .unwrap(),
        UNITS as u64
    );
    assert_eq!(
        store
            .fan_out(&tell(Event::RaffleLost, losers), entries_close_at)
            .await
            .unwrap(),
        (recorded.len() - UNITS as usize) as u64
    );
    let winner = store.entry(recorded[0]).await.unwrap().user_id;
    let told = store.inbox(winner, false, None, 10).await.unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].event, Event::RaffleWon);
    // Ids made in SQL are UUIDv7s, so that a fan-out appends to its id indexes.
    assert_eq!(told[0].id.get_version_num(), 7, "{}", told[0].id);
    assert_eq!(told[0].id.get_variant(), uuid::Variant::RFC4122);
    for (i, id) in recorded.iter().enumerate().step_by(9_973) {
        let entry = store.entry(*id).await.unwrap();
        assert_eq!(entry.position, Some(i as i64), "one place each");
        assert_eq!(entry.place.offered_at.is_some(), i < UNITS as usize);
        assert_eq!(
            store.raffle_entry(drop.id, entry.user_id).await.unwrap(),
            entry
        );
    }
    // Once the drop closes, the sweep offers nothing more and leaves the raffle alone.
    let closing = RaffleSweep {
        now: drop.closes_at,
        ..sweep
    };
    assert!(store.sweep_raffle(&closing).await.unwrap().exhausted);
    assert!(store.raffles_due(drop.closes_at).await.unwrap().is_empty());
}

const PINNED_FIRST_THREE: [&str; 3] = [
    "34ddca85-e25e-f6d9-cbee-300b7be09ab2",
    "02fcceff-6f03-3245-f305-1d10f2f323ec",
    "dc30e139-47fe-691b-4feb-fce203f1a96d",
];
