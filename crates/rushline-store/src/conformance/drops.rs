//! Drops, their pools, and the batches of claims the group-commit writer makes durable.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rushline_domain::{OrderStatus, Role, Won};
use serde_json::json;
use uuid::Uuid;

use super::catalog::seller_with_product;
use super::jobs::t0;
use super::users::user;
use crate::{
    ClaimRow, ClaimWrite, CommitOutcome, DROP_NOT_SCHEDULED, DbError, DropFilter, DropWindow,
    NewJob, NewOrder, NewOrderLine, ORDER_STATUS_CHANGED, OrderFilter, OrderTransition,
    ProductDrop, Redemption, Store,
};

pub(super) async fn scheduled_drop(
    store: &Arc<dyn Store>,
    quantity: i64,
    per_user_limit: i32,
) -> ProductDrop {
    let product = seller_with_product(store, 100_000, 0).await;
    let drop = ProductDrop {
        id: Uuid::now_v7(),
        product_id: product.id,
        seller_id: product.seller_id,
        quantity,
        price: Won::new(89_000),
        opens_at: t0() + Duration::hours(1),
        closes_at: t0() + Duration::hours(2),
        per_user_limit,
        created_at: t0(),
        updated_at: t0(),
        opened_at: None,
        closed_at: None,
        waiting_room: None,
        queue_seed: None,
        allocation: rushline_domain::Allocation::Fcfs,
        raffle: None,
    };
    store.create_drop(&drop, None, &[]).await.unwrap();
    drop
}

/// Commits `writes` as the group-commit writer does; none of them may fail.
pub(super) async fn commit(store: &Arc<dyn Store>, writes: &[ClaimWrite]) -> Vec<CommitOutcome> {
    store
        .commit_claims(writes)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

pub(super) async fn buyer(store: &Arc<dyn Store>) -> Uuid {
    let buyer = user(&format!("{}@buyer.example", Uuid::now_v7()), Role::Buyer);
    store.insert_user(&buyer).await.unwrap();
    buyer.id
}

pub(super) fn purchase(
    drop: &ProductDrop,
    buyer: Uuid,
    qty: i32,
    seq: i64,
    at: DateTime<Utc>,
) -> ClaimWrite {
    let id = Uuid::now_v7();
    ClaimWrite::Order(NewOrder {
        id,
        buyer_id: buyer,
        idempotency_key: format!("key-{id}"),
        total: Won::new(drop.price.get() * i64::from(qty)),
        hold_expires_at: at + Duration::minutes(10),
        created_at: at,
        cause: "purchase",
        lines: vec![NewOrderLine {
            product_id: drop.product_id,
            drop_id: Some(drop.id),
            qty,
            unit_price: drop.price,
            claim: ClaimRow {
                id,
                pool_key: drop.pool_key(),
                user_id: buyer,
                qty,
                seq,
                fingerprint: 42,
                claimed_at: at,
                released_at: None,
            },
        }],
        redemption: Redemption::default(),
        max_pending: 1_000,
    })
}

pub async fn drops_change_only_while_scheduled(store: Arc<dyn Store>) {
    let mut drop = scheduled_drop(&store, 100, 2).await;
    assert_eq!(store.drop_by_id(drop.id).await.unwrap(), drop);
    let (pool, claims) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(
        (pool.total, pool.per_user_limit, pool.held, pool.last_seq),
        (100, 2, 0, 0)
    );
    assert!(claims.is_empty());

    drop.quantity = 50;
    drop.per_user_limit = 1;
    drop.updated_at = t0() + Duration::minutes(1);
    store.update_drop(&drop, t0()).await.unwrap();
    assert_eq!(store.drop_by_id(drop.id).await.unwrap(), drop);
    let (pool, _) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!((pool.total, pool.per_user_limit), (50, 1));

    let opened = drop.opens_at;
    let error = store.update_drop(&drop, opened).await.unwrap_err();
    assert!(error.is_conflict_on(DROP_NOT_SCHEDULED), "{error:?}");
    let error = store.delete_drop(drop.id, opened).await.unwrap_err();
    assert!(error.is_conflict_on(DROP_NOT_SCHEDULED), "{error:?}");

    store.delete_drop(drop.id, t0()).await.unwrap();
    assert!(matches!(
        store.drop_by_id(drop.id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.pool_snapshot(&drop.pool_key()).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.delete_drop(drop.id, t0()).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.update_drop(&drop, t0()).await,
        Err(DbError::NotFound)
    ));
}

pub async fn drops_list_by_window_and_seller(store: Arc<dyn Store>) {
    let a = scheduled_drop(&store, 10, 1).await;
    let b = scheduled_drop(&store, 10, 1).await;
    let all = DropFilter {
        limit: 10,
        ..DropFilter::default()
    };
    assert_eq!(store.list_drops(&all).await.unwrap().len(), 2);
    let of_b = DropFilter {
        seller_id: Some(b.seller_id),
        ..all.clone()
    };
    assert_eq!(store.list_drops(&of_b).await.unwrap(), vec![b.clone()]);
    let micro = Duration::microseconds(1);
    let opening = |start, end| DropFilter {
        opening: Some((start, end)),
        ..of_b.clone()
    };
    assert_eq!(
        store
            .list_drops(&opening(b.opens_at, b.opens_at + micro))
            .await
            .unwrap(),
        vec![b.clone()],
        "the start is in"
    );
    assert!(
        store
            .list_drops(&opening(b.opens_at - micro, b.opens_at))
            .await
            .unwrap()
            .is_empty(),
        "the end is out"
    );

    let at = |now, window: fn(DateTime<Utc>) -> DropWindow| DropFilter {
        window: Some(window(now)),
        ..all.clone()
    };
    let scheduled = |now| DropWindow::Scheduled { now };
    let open = |now| DropWindow::Open { now };
    let closed = |now| DropWindow::Closed { now };
    assert_eq!(
        store
            .list_drops(&at(a.opens_at - micro, scheduled))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .list_drops(&at(a.opens_at - micro, open))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store.list_drops(&at(a.opens_at, open)).await.unwrap().len(),
        2
    );
    assert_eq!(
        store
            .list_drops(&at(a.closes_at - micro, open))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .list_drops(&at(a.closes_at, open))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store
            .list_drops(&at(a.closes_at, closed))
            .await
            .unwrap()
            .len(),
        2
    );
    let one = DropFilter { limit: 1, ..all };
    assert_eq!(store.list_drops(&one).await.unwrap(), vec![a]);
}

pub async fn drops_advance_records_openings_and_closings_once(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 1).await;
    assert!(store.advance_drops(t0(), closed).await.unwrap().is_empty());
    assert_eq!(
        store.advance_drops(drop.opens_at, closed).await.unwrap(),
        vec![drop.id]
    );
    assert!(
        store
            .advance_drops(drop.opens_at, closed)
            .await
            .unwrap()
            .is_empty()
    );
    let seen = store.drop_by_id(drop.id).await.unwrap();
    assert_eq!(
        (seen.opened_at, seen.closed_at),
        (Some(drop.opens_at), None)
    );
    assert_eq!(
        store
            .advance_drops(drop.closes_at + Duration::seconds(3), closed)
            .await
            .unwrap(),
        vec![drop.id]
    );
    let seen = store.drop_by_id(drop.id).await.unwrap();
    assert_eq!(seen.closed_at, Some(drop.closes_at + Duration::seconds(3)));
    let told: Vec<_> = store
        .list_jobs(None, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.kind == "drop_closed")
        .map(|job| job.payload)
        .collect();
    assert_eq!(
        told,
        [serde_json::json!({ "drop_id": drop.id })],
        "the closing is told once, in its transaction; the opening not"
    );
}

fn closed(drop: Uuid, at: DateTime<Utc>) -> Vec<NewJob> {
    vec![NewJob::new(
        "drop_closed",
        serde_json::json!({ "drop_id": drop }),
        at,
    )]
}

pub async fn claims_commit_in_one_batch_and_rebuild_the_pool(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 3).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = drop.opens_at;
    let writes = vec![
        purchase(&drop, alice, 2, 1, at),
        purchase(&drop, bob, 3, 2, at),
        purchase(&drop, alice, 1, 3, at),
    ];
    let outcomes = commit(&store, &writes).await;
    assert_eq!(outcomes, vec![CommitOutcome::Committed; 3]);

    let (pool, claims) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!((pool.held, pool.last_seq), (6, 3));
    let mut seqs: Vec<_> = claims.iter().map(|c| c.seq).collect();
    seqs.sort();
    assert_eq!(seqs, [1, 2, 3]);

    let ClaimWrite::Order(first) = &writes[0] else {
        unreachable!("a purchase writes an order")
    };
    let order = store.order(first.id).await.unwrap();
    assert_eq!(order.status, OrderStatus::PendingPayment);
    assert_eq!((order.buyer_id, order.total), (alice, Won::new(2 * 89_000)));
    assert_eq!(order.hold_expires_at, at + Duration::minutes(10));
    assert_eq!(order.lines.len(), 1);
    let line = &order.lines[0];
    assert_eq!(
        (line.line_no, line.qty, line.unit_price, line.seq),
        (1, 2, Won::new(89_000), 1)
    );
    assert_eq!(
        (line.drop_id, line.product_id),
        (Some(drop.id), drop.product_id)
    );
    assert_eq!(order.history.len(), 1);
    assert_eq!(order.history[0].status, OrderStatus::PendingPayment);
    assert_eq!(
        (order.history[0].at, order.history[0].cause.as_str()),
        (at, "purchase")
    );
    let of_drop = OrderFilter {
        drop_id: Some(drop.id),
        limit: 10,
        ..OrderFilter::default()
    };
    assert_eq!(store.list_orders(&of_drop).await.unwrap().len(), 3);
    // Newest first (the same time here: by id), a page at a time, and only the seller's.
    let first_page = store
        .list_orders(&OrderFilter {
            limit: 2,
            ..of_drop
        })
        .await
        .unwrap();
    assert_eq!(first_page.len(), 2);
    assert!(first_page[0].id > first_page[1].id);
    let last = &first_page[1];
    let second_page = store
        .list_orders(&OrderFilter {
            before: Some((last.created_at, last.id)),
            ..of_drop
        })
        .await
        .unwrap();
    assert_eq!(second_page.len(), 1);
    assert!(second_page[0].id < last.id);
    let of_seller = |seller_id| OrderFilter {
        seller_id: Some(seller_id),
        ..of_drop
    };
    assert_eq!(
        store
            .list_orders(&of_seller(drop.seller_id))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        store
            .list_orders(&of_seller(Uuid::now_v7()))
            .await
            .unwrap()
            .is_empty()
    );
    let alices = store
        .list_orders(&OrderFilter {
            buyer_id: Some(alice),
            status: Some(OrderStatus::PendingPayment),
            ..of_drop
        })
        .await
        .unwrap();
    assert_eq!(alices.len(), 2);
    assert!(alices.iter().all(|o| o.buyer_id == alice));
    assert!(matches!(
        store.order(Uuid::now_v7()).await,
        Err(DbError::NotFound)
    ));
}

pub async fn claims_the_database_refuses_what_would_oversell(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 3, 2).await;
    let at = drop.opens_at;
    let mut writes = Vec::new();
    for seq in 1..=4 {
        writes.push(purchase(&drop, buyer(&store).await, 1, seq, at));
    }
    let outcomes = commit(&store, &writes).await;
    use CommitOutcome::*;
    assert_eq!(outcomes, vec![Committed, Committed, Committed, SoldOut]);
    let (pool, claims) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!((pool.held, claims.len()), (3, 3));
    let ClaimWrite::Order(refused) = &writes[3] else {
        unreachable!("a purchase writes an order")
    };
    assert!(matches!(
        store.order(refused.id).await,
        Err(DbError::NotFound)
    ));
}

pub async fn claims_the_database_refuses_what_breaks_the_user_limit(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 2).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = drop.opens_at;
    commit(&store, &[purchase(&drop, alice, 1, 1, at)]).await;
    let writes = [
        purchase(&drop, alice, 1, 2, at),
        purchase(&drop, bob, 2, 3, at),
        purchase(&drop, alice, 1, 4, at),
    ];
    use CommitOutcome::*;
    assert_eq!(
        commit(&store, &writes).await,
        vec![Committed, Committed, LimitReached]
    );
    let (pool, _) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(pool.held, 4);
}

pub async fn claims_the_database_caps_a_buyers_unpaid_orders(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 10).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = drop.opens_at;
    let capped = |write: ClaimWrite| match write {
        ClaimWrite::Order(order) => ClaimWrite::Order(NewOrder {
            max_pending: 2,
            ..order
        }),
        ClaimWrite::Coupon(_) | ClaimWrite::Application(_) | ClaimWrite::Entry(_) => {
            unreachable!("purchases write orders")
        }
    };
    let first = capped(purchase(&drop, alice, 1, 1, at));
    commit(&store, std::slice::from_ref(&first)).await;
    let writes = [
        capped(purchase(&drop, alice, 1, 2, at)),
        capped(purchase(&drop, bob, 1, 3, at)),
        capped(purchase(&drop, alice, 1, 4, at)),
    ];
    use CommitOutcome::*;
    assert_eq!(
        commit(&store, &writes).await,
        vec![Committed, Committed, TooManyPendingOrders]
    );
    assert_eq!(store.pending_orders(alice).await.unwrap(), 2);
    let (pool, _) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(pool.held, 3, "the refused order holds nothing");

    // Paid, an order no longer counts.
    let mut pay = OrderTransition::new(
        order_id(&first),
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        at + Duration::minutes(1),
        "payment",
    );
    pay.within_hold = true;
    store.transition_order(&pay).await.unwrap();
    assert_eq!(store.pending_orders(alice).await.unwrap(), 1);
    assert_eq!(
        commit(&store, &[capped(purchase(&drop, alice, 1, 5, at))]).await,
        vec![Committed]
    );
}

pub async fn claims_a_committed_order_is_not_written_twice(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let alice = buyer(&store).await;
    let write = purchase(&drop, alice, 1, 1, drop.opens_at);
    assert_eq!(
        commit(&store, std::slice::from_ref(&write)).await,
        vec![CommitOutcome::Committed]
    );
    let other = purchase(&drop, alice, 1, 2, drop.opens_at);
    assert_eq!(
        commit(&store, &[write, other]).await,
        vec![CommitOutcome::Duplicate, CommitOutcome::Committed]
    );
    let (pool, claims) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!((pool.held, claims.len()), (2, 2));
}

pub async fn claims_one_writes_error_fails_that_write_alone(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = drop.opens_at;
    let first = purchase(&drop, alice, 1, 1, at);
    commit(&store, std::slice::from_ref(&first)).await;
    // Another order whose claim reuses the first one's id: a constraint, not an invariant.
    let mut clash = purchase(&drop, alice, 1, 2, at);
    let ClaimWrite::Order(order) = &mut clash else {
        unreachable!("a purchase writes an order")
    };
    order.lines[0].claim.id = order_id(&first);
    let fine = purchase(&drop, bob, 1, 3, at);
    let outcomes = store.commit_claims(&[fine.clone(), clash.clone()]).await;
    assert!(
        matches!(
            outcomes.as_slice(),
            [Ok(CommitOutcome::Committed), Err(DbError::Conflict { .. })]
        ),
        "{outcomes:?}"
    );
    store.order(order_id(&fine)).await.unwrap();
    assert!(matches!(
        store.order(order_id(&clash)).await,
        Err(DbError::NotFound)
    ));
    let (pool, claims) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!((pool.held, claims.len()), (2, 2));
}

pub(super) fn order_id(write: &ClaimWrite) -> Uuid {
    let ClaimWrite::Order(order) = write else {
        unreachable!("a purchase writes an order")
    };
    order.id
}

pub async fn orders_move_once_and_release_their_stock_when_they_leave_it(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let alice = buyer(&store).await;
    let at = drop.opens_at;
    let write = purchase(&drop, alice, 3, 1, at);
    commit(&store, std::slice::from_ref(&write)).await;
    let id = order_id(&write);

    let paid_at = at + Duration::minutes(1);
    let mut pay = OrderTransition::new(
        id,
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        paid_at,
        "payment",
    );
    pay.within_hold = true;
    let order = store.transition_order(&pay).await.unwrap();
    assert_eq!(
        (order.status, order.status_changed_at),
        (OrderStatus::Paid, paid_at)
    );
    let error = store.transition_order(&pay).await.unwrap_err();
    assert!(
        error.is_conflict_on(ORDER_STATUS_CHANGED),
        "applied twice: {error:?}"
    );
    let (pool, _) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(pool.held, 3, "paid orders keep their stock");

    let cancelled_at = paid_at + Duration::minutes(1);
    let mut cancel = OrderTransition::new(
        id,
        OrderStatus::Paid,
        OrderStatus::Cancelled,
        cancelled_at,
        "buyer",
    );
    cancel
        .jobs
        .push(NewJob::new("refund", json!({ "order": id }), cancelled_at));
    let order = store.transition_order(&cancel).await.unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    let history: Vec<_> = order
        .history
        .iter()
        .map(|e| (e.status, e.cause.as_str()))
        .collect();
    assert_eq!(
        history,
        [
            (OrderStatus::PendingPayment, "purchase"),
            (OrderStatus::Paid, "payment"),
            (OrderStatus::Cancelled, "buyer")
        ]
    );
    let (pool, claims) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(
        (pool.held, claims.len()),
        (0, 0),
        "leaving a holding status releases the stock"
    );
    let jobs = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].kind.as_str(), &jobs[0].payload),
        ("refund", &json!({ "order": id }))
    );

    let missing = OrderTransition::new(
        Uuid::now_v7(),
        OrderStatus::Paid,
        OrderStatus::Cancelled,
        cancelled_at,
        "buyer",
    );
    assert!(matches!(
        store.transition_order(&missing).await,
        Err(DbError::NotFound)
    ));
}

pub async fn orders_cannot_be_paid_once_the_hold_has_run_out(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let write = purchase(&drop, buyer(&store).await, 1, 1, drop.opens_at);
    commit(&store, std::slice::from_ref(&write)).await;
    let ClaimWrite::Order(new) = &write else {
        unreachable!("a purchase writes an order")
    };
    let mut pay = OrderTransition::new(
        new.id,
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        new.hold_expires_at,
        "payment",
    );
    pay.within_hold = true;
    let error = store.transition_order(&pay).await.unwrap_err();
    assert!(error.is_conflict_on(ORDER_STATUS_CHANGED), "{error:?}");
    pay.at = new.hold_expires_at - Duration::microseconds(1);
    assert_eq!(
        store.transition_order(&pay).await.unwrap().status,
        OrderStatus::Paid
    );
}

pub async fn orders_due_and_listed_by_buyer_seller_drop_and_status(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = drop.opens_at;
    let writes = [
        purchase(&drop, alice, 1, 1, at),
        purchase(&drop, bob, 1, 2, at + Duration::seconds(1)),
        purchase(&drop, alice, 1, 3, at + Duration::seconds(2)),
    ];
    commit(&store, &writes).await;
    let ids: Vec<Uuid> = writes.iter().map(order_id).collect();

    let holds_end = at + Duration::minutes(10);
    let due = store
        .orders_due(OrderStatus::PendingPayment, holds_end, 10)
        .await
        .unwrap();
    assert_eq!(
        due,
        vec![(ids[0], alice, holds_end)],
        "only the first hold has run out"
    );
    assert_eq!(
        store
            .orders_due(
                OrderStatus::PendingPayment,
                holds_end + Duration::seconds(2),
                2
            )
            .await
            .unwrap(),
        [
            (ids[0], alice, holds_end),
            (ids[1], bob, holds_end + Duration::seconds(1))
        ]
    );
    assert!(
        store
            .orders_due(OrderStatus::Paid, holds_end, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let all = OrderFilter {
        limit: 10,
        ..OrderFilter::default()
    };
    let listed = |orders: Vec<crate::Order>| orders.iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(
        listed(store.list_orders(&all).await.unwrap()),
        [ids[2], ids[1], ids[0]]
    );
    let of_alice = OrderFilter {
        buyer_id: Some(alice),
        ..all.clone()
    };
    assert_eq!(
        listed(store.list_orders(&of_alice).await.unwrap()),
        [ids[2], ids[0]]
    );
    let of_seller = OrderFilter {
        seller_id: Some(drop.seller_id),
        drop_id: Some(drop.id),
        ..all.clone()
    };
    assert_eq!(store.list_orders(&of_seller).await.unwrap().len(), 3);
    let other_seller = OrderFilter {
        seller_id: Some(Uuid::now_v7()),
        ..all.clone()
    };
    assert!(store.list_orders(&other_seller).await.unwrap().is_empty());
    let page = store
        .list_orders(&OrderFilter {
            limit: 2,
            ..all.clone()
        })
        .await
        .unwrap();
    let last = page.last().unwrap();
    let next = OrderFilter {
        before: Some((last.created_at, last.id)),
        ..all.clone()
    };
    assert_eq!(listed(store.list_orders(&next).await.unwrap()), [ids[0]]);
    assert_eq!(page[0].lines.len(), 1, "listed orders carry their lines");

    store
        .transition_order(&OrderTransition::new(
            ids[1],
            OrderStatus::PendingPayment,
            OrderStatus::Expired,
            holds_end,
            "hold_expired",
        ))
        .await
        .unwrap();
    let expired = OrderFilter {
        status: Some(OrderStatus::Expired),
        ..all.clone()
    };
    assert_eq!(listed(store.list_orders(&expired).await.unwrap()), [ids[1]]);

    // An order of another drop stays out of this drop's list.
    let other = scheduled_drop(&store, 10, 5).await;
    let elsewhere = purchase(&other, alice, 1, 1, other.opens_at);
    commit(&store, std::slice::from_ref(&elsewhere)).await;
    let of_drop = |drop_id| OrderFilter {
        drop_id: Some(drop_id),
        ..all.clone()
    };
    assert_eq!(store.list_orders(&of_drop(drop.id)).await.unwrap().len(), 3);
    assert_eq!(
        listed(store.list_orders(&of_drop(other.id)).await.unwrap()),
        [order_id(&elsewhere)]
    );
}
