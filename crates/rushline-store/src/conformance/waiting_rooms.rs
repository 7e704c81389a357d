//! A drop's waiting room settings, its recorded shuffle seed, and the admission job's sweep.

use std::sync::Arc;

use chrono::Duration;
use uuid::Uuid;

use super::drops::scheduled_drop;
use super::jobs::t0;
use crate::{DbError, DropFilter, Store, WaitingRoomSettings};

const ROOM: WaitingRoomSettings = WaitingRoomSettings {
    admit_per_minute: 120,
    max_active: Some(50),
    session_minutes: 5,
    prequeue_minutes: 30,
};

pub async fn waiting_rooms_round_trip_with_their_drop(store: Arc<dyn Store>) {
    let mut drop = scheduled_drop(&store, 100, 1).await;
    assert_eq!(store.drop_by_id(drop.id).await.unwrap().waiting_room, None);

    drop.waiting_room = Some(ROOM);
    store.update_drop(&drop, t0()).await.unwrap();
    assert_eq!(store.drop_by_id(drop.id).await.unwrap(), drop);
    let listed = store
        .list_drops(&DropFilter {
            seller_id: Some(drop.seller_id),
            limit: 10,
            ..DropFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![drop.clone()]);

    drop.waiting_room = Some(WaitingRoomSettings {
        max_active: None,
        prequeue_minutes: 0,
        ..ROOM
    });
    store.update_drop(&drop, t0()).await.unwrap();
    assert_eq!(store.drop_by_id(drop.id).await.unwrap(), drop);

    drop.waiting_room = None;
    store.update_drop(&drop, t0()).await.unwrap();
    assert_eq!(store.drop_by_id(drop.id).await.unwrap(), drop);

    let mut created = scheduled_drop(&store, 10, 1).await;
    store.delete_drop(created.id, t0()).await.unwrap();
    created.waiting_room = Some(ROOM);
    store.create_drop(&created, None, &[]).await.unwrap();
    assert_eq!(store.drop_by_id(created.id).await.unwrap(), created);
}

pub async fn waiting_rooms_record_the_first_seed_only(store: Arc<dyn Store>) {
    let mut drop = scheduled_drop(&store, 100, 1).await;
    drop.waiting_room = Some(ROOM);
    store.update_drop(&drop, t0()).await.unwrap();

    let first = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        store.record_queue_seed(drop.id, first).await.unwrap(),
        first
    );
    assert_eq!(
        store
            .record_queue_seed(drop.id, "ffffffffffffffffffffffffffffffff")
            .await
            .unwrap(),
        first,
        "a second opening (another node, a lost Redis) keeps the published seed"
    );
    assert_eq!(
        store
            .drop_by_id(drop.id)
            .await
            .unwrap()
            .queue_seed
            .as_deref(),
        Some(first)
    );
    assert!(matches!(
        store.record_queue_seed(Uuid::now_v7(), first).await,
        Err(DbError::NotFound)
    ));
}

pub async fn waiting_rooms_admit_while_their_drop_is_open(store: Arc<dyn Store>) {
    let mut with_room = scheduled_drop(&store, 100, 1).await;
    with_room.waiting_room = Some(ROOM);
    store.update_drop(&with_room, t0()).await.unwrap();
    let without_room = scheduled_drop(&store, 100, 1).await;
    assert_eq!(without_room.opens_at, with_room.opens_at);

    let ids = |drops: Vec<crate::ProductDrop>| drops.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let at = |t| {
        let store = store.clone();
        async move { ids(store.drops_with_open_rooms(t).await.unwrap()) }
    };
    assert!(
        at(with_room.opens_at - Duration::microseconds(1))
            .await
            .is_empty()
    );
    assert_eq!(at(with_room.opens_at).await, vec![with_room.id]);
    assert_eq!(
        at(with_room.closes_at - Duration::microseconds(1)).await,
        vec![with_room.id]
    );
    assert!(at(with_room.closes_at).await.is_empty());
    let opened = store
        .drops_with_open_rooms(with_room.opens_at)
        .await
        .unwrap();
    assert_eq!(opened, vec![with_room]);
}
