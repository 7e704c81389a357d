//! Coupon campaigns, coupons claimed through the group commit, wallets, and the points ledger.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rushline_domain::{CouponScope, CouponStatus, Discount, OrderStatus, PointKind, Role, Won};
use uuid::Uuid;

use super::catalog::seller_with_product;
use super::drops::{buyer, commit, purchase, scheduled_drop};
use super::jobs::t0;
use super::users::user;
use crate::{
    CampaignFilter, ClaimRow, ClaimWrite, CommitOutcome, CouponCampaign, CouponFilter, DbError,
    DropWindow, NewCoupon, ORDER_STATUS_CHANGED, OrderTransition, ProductDrop, Redemption, Store,
};

/// A campaign of `owner` claimable from an hour after t0 for an hour, its coupons valid for a
/// week from t0.
pub(super) async fn campaign(
    store: &Arc<dyn Store>,
    total: i64,
    per_user_limit: i32,
) -> CouponCampaign {
    let product = seller_with_product(store, 100_000, 0).await;
    let campaign = CouponCampaign {
        id: Uuid::now_v7(),
        owner_id: product.seller_id,
        name: "Spring 10%".to_owned(),
        total,
        per_user_limit,
        claim_starts_at: t0() + Duration::hours(1),
        claim_ends_at: t0() + Duration::hours(2),
        valid_from: t0(),
        valid_until: t0() + Duration::days(7),
        discount: Discount::Percent {
            percent: 10,
            max_amount: Won::new(5_000),
        },
        min_order_amount: Won::new(30_000),
        scope: CouponScope::Product {
            product_id: product.id,
        },
        created_at: t0(),
    };
    store.create_campaign(&campaign).await.unwrap();
    campaign
}

/// The write of a coupon claimed from `campaign` by `buyer`, as the claim path builds it.
pub(super) fn claim(
    campaign: &CouponCampaign,
    buyer: Uuid,
    seq: i64,
    at: DateTime<Utc>,
) -> ClaimWrite {
    let id = Uuid::now_v7();
    ClaimWrite::Coupon(NewCoupon {
        id,
        campaign_id: campaign.id,
        user_id: buyer,
        valid_from: campaign.valid_from,
        valid_until: campaign.valid_until,
        claimed_at: at,
        claim: ClaimRow {
            id,
            pool_key: campaign.pool_key(),
            user_id: buyer,
            qty: 1,
            seq,
            fingerprint: 7,
            claimed_at: at,
            released_at: None,
        },
    })
}

pub(super) fn coupon_id(write: &ClaimWrite) -> Uuid {
    let ClaimWrite::Coupon(coupon) = write else {
        unreachable!("a coupon claim writes a coupon")
    };
    coupon.id
}

pub async fn coupons_campaigns_round_trip_with_their_pool(store: Arc<dyn Store>) {
    let percent = campaign(&store, 1_000, 2).await;
    assert_eq!(store.campaign(percent.id).await.unwrap(), percent);
    let (pool, claims) = store.pool_snapshot(&percent.pool_key()).await.unwrap();
    assert_eq!(pool.key, format!("coupon:{}", percent.id));
    assert_eq!(
        (pool.total, pool.per_user_limit, pool.held, pool.last_seq),
        (1_000, 2, 0, 0)
    );
    assert!(claims.is_empty());

    let admin = user(&format!("{}@admin.example", Uuid::now_v7()), Role::Admin);
    store.insert_user(&admin).await.unwrap();
    for (discount, scope) in [
        (
            Discount::Fixed {
                amount: Won::new(3_000),
            },
            CouponScope::Store,
        ),
        (
            Discount::Fixed {
                amount: Won::new(1),
            },
            CouponScope::Seller {
                seller_id: percent.owner_id,
            },
        ),
    ] {
        let other = CouponCampaign {
            id: Uuid::now_v7(),
            owner_id: admin.id,
            discount,
            scope,
            min_order_amount: Won::new(0),
            ..percent.clone()
        };
        store.create_campaign(&other).await.unwrap();
        assert_eq!(store.campaign(other.id).await.unwrap(), other);
    }

    let error = store.create_campaign(&percent).await.unwrap_err();
    assert!(matches!(error, DbError::Conflict { .. }), "{error:?}");
    assert!(matches!(
        store.campaign(Uuid::now_v7()).await,
        Err(DbError::NotFound)
    ));
}

pub async fn coupons_campaigns_list_by_window_and_owner(store: Arc<dyn Store>) {
    let a = campaign(&store, 10, 1).await;
    let b = campaign(&store, 10, 1).await;
    let all = CampaignFilter {
        limit: 10,
        ..CampaignFilter::default()
    };
    assert_eq!(
        store.list_campaigns(&all).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    let of_b = CampaignFilter {
        owner_id: Some(b.owner_id),
        ..all.clone()
    };
    assert_eq!(store.list_campaigns(&of_b).await.unwrap(), vec![b]);

    let micro = Duration::microseconds(1);
    let count = |window| {
        let store = store.clone();
        let filter = CampaignFilter {
            window: Some(window),
            ..all.clone()
        };
        async move { store.list_campaigns(&filter).await.unwrap().len() }
    };
    let before = a.claim_starts_at - micro;
    assert_eq!(count(DropWindow::Scheduled { now: before }).await, 2);
    assert_eq!(count(DropWindow::Open { now: before }).await, 0);
    assert_eq!(
        count(DropWindow::Open {
            now: a.claim_starts_at
        })
        .await,
        2
    );
    let last = a.claim_ends_at - micro;
    assert_eq!(count(DropWindow::Open { now: last }).await, 2);
    assert_eq!(
        count(DropWindow::Open {
            now: a.claim_ends_at
        })
        .await,
        0
    );
    assert_eq!(
        count(DropWindow::Closed {
            now: a.claim_ends_at
        })
        .await,
        2
    );
    let one = CampaignFilter { limit: 1, ..all };
    assert_eq!(store.list_campaigns(&one).await.unwrap(), vec![a]);
}

pub async fn coupons_claims_commit_beside_orders_in_one_batch(store: Arc<dyn Store>) {
    let campaign = campaign(&store, 10, 2).await;
    let drop = scheduled_drop(&store, 10, 2).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = campaign.claim_starts_at;
    let writes = vec![
        claim(&campaign, alice, 1, at),
        purchase(&drop, alice, 1, 1, at),
        claim(&campaign, bob, 2, at),
        claim(&campaign, alice, 3, at + Duration::seconds(1)),
    ];
    assert_eq!(
        commit(&store, &writes).await,
        vec![CommitOutcome::Committed; 4]
    );

    let (pool, claims) = store.pool_snapshot(&campaign.pool_key()).await.unwrap();
    assert_eq!((pool.held, pool.last_seq, claims.len()), (3, 3, 3));
    let (pool, _) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(pool.held, 1, "the order of the same batch holds its unit");

    let first = store.coupon(coupon_id(&writes[0])).await.unwrap();
    assert_eq!(
        (first.campaign_id, first.user_id, first.status),
        (campaign.id, alice, CouponStatus::Available)
    );
    assert_eq!(
        (first.valid_from, first.valid_until, first.claimed_at),
        (campaign.valid_from, campaign.valid_until, at)
    );
    assert_eq!(first.reserved_by_order, None);
    assert!(matches!(
        store.coupon(Uuid::now_v7()).await,
        Err(DbError::NotFound)
    ));
}

pub async fn coupons_the_database_refuses_claims_past_the_total_or_the_limit(
    store: Arc<dyn Store>,
) {
    let campaign = campaign(&store, 2, 1).await;
    let (alice, bob, carol) = (
        buyer(&store).await,
        buyer(&store).await,
        buyer(&store).await,
    );
    let at = campaign.claim_starts_at;
    let writes = [
        claim(&campaign, alice, 1, at),
        claim(&campaign, alice, 2, at),
        claim(&campaign, bob, 3, at),
        claim(&campaign, carol, 4, at),
    ];
    use CommitOutcome::*;
    assert_eq!(
        commit(&store, &writes).await,
        vec![Committed, LimitReached, Committed, SoldOut]
    );
    let (pool, claims) = store.pool_snapshot(&campaign.pool_key()).await.unwrap();
    assert_eq!((pool.held, claims.len()), (2, 2));
    for refused in [&writes[1], &writes[3]] {
        assert!(matches!(
            store.coupon(coupon_id(refused)).await,
            Err(DbError::NotFound)
        ));
    }
}

pub async fn coupons_a_claimed_coupon_is_not_issued_twice(store: Arc<dyn Store>) {
    let campaign = campaign(&store, 10, 5).await;
    let alice = buyer(&store).await;
    let at = campaign.claim_starts_at;
    let write = claim(&campaign, alice, 1, at);
    commit(&store, std::slice::from_ref(&write)).await;
    let other = claim(&campaign, alice, 2, at);
    assert_eq!(
        commit(&store, &[write, other]).await,
        vec![CommitOutcome::Duplicate, CommitOutcome::Committed]
    );
    let (pool, claims) = store.pool_snapshot(&campaign.pool_key()).await.unwrap();
    assert_eq!((pool.held, claims.len()), (2, 2));
}

pub async fn coupons_wallets_list_by_the_status_shown_now_newest_first(store: Arc<dyn Store>) {
    let short = campaign(&store, 10, 5).await;
    let long = CouponCampaign {
        id: Uuid::now_v7(),
        valid_until: short.valid_until + Duration::days(7),
        ..short.clone()
    };
    store.create_campaign(&long).await.unwrap();
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let at = short.claim_starts_at;
    let writes = [
        claim(&short, alice, 1, at),
        claim(&long, alice, 1, at + Duration::seconds(1)),
        claim(&short, alice, 2, at + Duration::seconds(2)),
        claim(&short, bob, 3, at),
    ];
    commit(&store, &writes).await;
    let ids: Vec<Uuid> = writes.iter().map(coupon_id).collect();

    let listed = |status, now, before, limit| {
        let store = store.clone();
        let filter = CouponFilter {
            user_id: alice,
            status,
            now,
            before,
            limit,
        };
        async move {
            store
                .list_coupons(&filter)
                .await
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    let now = at + Duration::minutes(1);
    assert_eq!(listed(None, now, None, 10).await, [ids[2], ids[1], ids[0]]);
    let available = Some(CouponStatus::Available);
    let expired = Some(CouponStatus::Expired);
    assert_eq!(
        listed(available, now, None, 10).await,
        [ids[2], ids[1], ids[0]]
    );
    assert!(listed(expired, now, None, 10).await.is_empty());
    assert!(
        listed(Some(CouponStatus::Used), now, None, 10)
            .await
            .is_empty()
    );

    // The short campaign's validity ends: its coupons show as expired from that instant on.
    let end = short.valid_until;
    let micro = Duration::microseconds(1);
    assert_eq!(listed(available, end - micro, None, 10).await.len(), 3);
    assert_eq!(listed(available, end, None, 10).await, [ids[1]]);
    assert_eq!(listed(expired, end, None, 10).await, [ids[2], ids[0]]);

    let page = store
        .list_coupons(&CouponFilter {
            user_id: alice,
            status: None,
            now,
            before: None,
            limit: 2,
        })
        .await
        .unwrap();
    let last = page.last().unwrap();
    assert_eq!(
        listed(None, now, Some((last.claimed_at, last.id)), 10).await,
        [ids[0]]
    );
}

pub async fn points_a_buyer_without_entries_has_none(store: Arc<dyn Store>) {
    let alice = buyer(&store).await;
    assert_eq!(store.points_balance(alice).await.unwrap().get(), 0);
    assert!(
        store
            .point_entries(alice, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A purchase of one unit of `drop` redeeming `coupon` and `points`.
fn redeeming(
    drop: &ProductDrop,
    buyer: Uuid,
    seq: i64,
    at: DateTime<Utc>,
    coupon: Option<(Uuid, i64)>,
    points: i64,
) -> ClaimWrite {
    let ClaimWrite::Order(mut order) = purchase(drop, buyer, 1, seq, at) else {
        unreachable!("a purchase writes an order")
    };
    let discount = coupon.map_or(0, |(_, discount)| discount);
    order.redemption = Redemption {
        coupon_id: coupon.map(|(id, _)| id),
        discount: Won::new(discount),
        points: Won::new(points),
    };
    order.total = Won::new(order.total.get() - discount - points);
    ClaimWrite::Order(order)
}

fn order_id(write: &ClaimWrite) -> Uuid {
    let ClaimWrite::Order(order) = write else {
        unreachable!("a purchase writes an order")
    };
    order.id
}

/// Moves an order through `steps` of `(from, to)`, `at` each, earning `earn` on the last.
async fn walk(
    store: &Arc<dyn Store>,
    order: Uuid,
    steps: &[(OrderStatus, OrderStatus)],
    at: DateTime<Utc>,
    earn: i64,
) {
    for (i, (from, to)) in steps.iter().enumerate() {
        let mut change = OrderTransition::new(order, *from, *to, at, "test");
        if i + 1 == steps.len() {
            change.earn_points = Won::new(earn);
        }
        store.transition_order(&change).await.unwrap();
    }
}

const TO_COMPLETION: [(OrderStatus, OrderStatus); 4] = [
    (OrderStatus::PendingPayment, OrderStatus::Paid),
    (OrderStatus::Paid, OrderStatus::Shipping),
    (OrderStatus::Shipping, OrderStatus::Delivered),
    (OrderStatus::Delivered, OrderStatus::Completed),
];

/// Gives `buyer` `points` the way buyers get them: an order of `drop` that completes.
async fn earn(store: &Arc<dyn Store>, drop: &ProductDrop, buyer: Uuid, seq: i64, points: i64) {
    let write = purchase(drop, buyer, 1, seq, drop.opens_at);
    commit(store, std::slice::from_ref(&write)).await;
    walk(
        store,
        order_id(&write),
        &TO_COMPLETION,
        drop.opens_at,
        points,
    )
    .await;
}

/// The sum of the buyer's entries, checked against the balance the store reports.
async fn ledger(store: &Arc<dyn Store>, buyer: Uuid) -> Vec<(PointKind, i64, Option<Uuid>)> {
    let entries = store.point_entries(buyer, None, 100).await.unwrap();
    let sum: i64 = entries.iter().map(|e| e.amount.get()).sum();
    assert_eq!(
        store.points_balance(buyer).await.unwrap(),
        Won::new(sum),
        "the balance is the sum of the entries"
    );
    entries
        .into_iter()
        .map(|e| (e.kind, e.amount.get(), e.order_id))
        .collect()
}

pub async fn coupons_are_reserved_with_the_order_used_when_paid_and_back_when_cancelled(
    store: Arc<dyn Store>,
) {
    let campaign = campaign(&store, 10, 1).await;
    let drop = scheduled_drop(&store, 10, 5).await;
    let alice = buyer(&store).await;
    let at = drop.opens_at;
    let claimed = claim(&campaign, alice, 1, campaign.claim_starts_at);
    commit(&store, std::slice::from_ref(&claimed)).await;
    let coupon = coupon_id(&claimed);

    let first = redeeming(&drop, alice, 1, at, Some((coupon, 5_000)), 0);
    let again = redeeming(&drop, alice, 2, at, Some((coupon, 5_000)), 0);
    use CommitOutcome::*;
    assert_eq!(
        commit(&store, &[first.clone(), again]).await,
        vec![Committed, CouponUnavailable],
        "one coupon, one order"
    );
    let (pool, _) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(pool.held, 1, "the refused order holds nothing");
    let order = store.order(order_id(&first)).await.unwrap();
    assert_eq!(
        (order.total, order.redemption),
        (
            Won::new(drop.price.get() - 5_000),
            Redemption {
                coupon_id: Some(coupon),
                discount: Won::new(5_000),
                points: Won::new(0)
            }
        )
    );
    let reserved = store.coupon(coupon).await.unwrap();
    assert_eq!(
        (
            reserved.status,
            reserved.reserved_by_order,
            reserved.updated_at
        ),
        (CouponStatus::Reserved, Some(order.id), at)
    );

    let paid_at = at + Duration::minutes(1);
    walk(&store, order.id, &TO_COMPLETION[..1], paid_at, 0).await;
    let used = store.coupon(coupon).await.unwrap();
    assert_eq!(
        (used.status, used.reserved_by_order),
        (CouponStatus::Used, Some(order.id))
    );

    let cancel = OrderTransition::new(
        order.id,
        OrderStatus::Paid,
        OrderStatus::Cancelled,
        paid_at + Duration::minutes(1),
        "buyer",
    );
    store.transition_order(&cancel).await.unwrap();
    let back = store.coupon(coupon).await.unwrap();
    assert_eq!(
        (back.status, back.reserved_by_order),
        (CouponStatus::Available, None)
    );
    let error = store.transition_order(&cancel).await.unwrap_err();
    assert!(error.is_conflict_on(ORDER_STATUS_CHANGED), "{error:?}");
    assert_eq!(
        store.order(order.id).await.unwrap().redemption.coupon_id,
        Some(coupon),
        "the order remembers what it redeemed"
    );

    let next = redeeming(
        &drop,
        alice,
        3,
        at + Duration::minutes(5),
        Some((coupon, 5_000)),
        0,
    );
    assert_eq!(
        commit(&store, &[next]).await,
        vec![Committed],
        "a coupon given back is usable again"
    );
}

pub async fn coupons_the_database_refuses_another_buyers_or_one_outside_its_validity(
    store: Arc<dyn Store>,
) {
    let campaign = campaign(&store, 10, 1).await;
    let drop = scheduled_drop(&store, 10, 5).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    let claimed = claim(&campaign, alice, 1, campaign.claim_starts_at);
    commit(&store, std::slice::from_ref(&claimed)).await;
    let coupon = Some((coupon_id(&claimed), 1_000));
    let micro = Duration::microseconds(1);
    let writes = [
        redeeming(&drop, bob, 1, drop.opens_at, coupon, 0),
        redeeming(&drop, alice, 2, campaign.valid_from - micro, coupon, 0),
        redeeming(&drop, alice, 3, campaign.valid_until, coupon, 0),
        redeeming(&drop, alice, 4, campaign.valid_until - micro, coupon, 0),
    ];
    use CommitOutcome::*;
    assert_eq!(
        commit(&store, &writes).await,
        vec![
            CouponUnavailable,
            CouponUnavailable,
            CouponUnavailable,
            Committed
        ]
    );
}

pub async fn coupons_come_back_expired_once_their_validity_has_ended(store: Arc<dyn Store>) {
    let campaign = campaign(&store, 10, 1).await;
    let drop = scheduled_drop(&store, 10, 5).await;
    let alice = buyer(&store).await;
    let claimed = claim(&campaign, alice, 1, campaign.claim_starts_at);
    commit(&store, std::slice::from_ref(&claimed)).await;
    let coupon = coupon_id(&claimed);
    let late = campaign.valid_until - Duration::minutes(1);
    let write = redeeming(&drop, alice, 1, late, Some((coupon, 1_000)), 0);
    commit(&store, std::slice::from_ref(&write)).await;
    let expire = OrderTransition::new(
        order_id(&write),
        OrderStatus::PendingPayment,
        OrderStatus::Expired,
        campaign.valid_until,
        "hold_expired",
    );
    store.transition_order(&expire).await.unwrap();
    let coupon = store.coupon(coupon).await.unwrap();
    assert_eq!(
        (coupon.status, coupon.reserved_by_order),
        (CouponStatus::Expired, None)
    );
}

pub async fn points_are_spent_with_the_order_and_never_below_zero(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 100, 50).await;
    let (alice, bob) = (buyer(&store).await, buyer(&store).await);
    earn(&store, &drop, alice, 1, 1_000).await;
    assert_eq!(store.points_balance(alice).await.unwrap().get(), 1_000);

    let at = drop.opens_at + Duration::minutes(1);
    let writes = [
        redeeming(&drop, alice, 2, at, None, 400),
        redeeming(&drop, alice, 3, at, None, 400),
        redeeming(&drop, alice, 4, at, None, 400),
        redeeming(&drop, bob, 5, at, None, 1),
    ];
    use CommitOutcome::*;
    assert_eq!(
        commit(&store, &writes).await,
        vec![Committed, Committed, InsufficientPoints, InsufficientPoints]
    );
    assert_eq!(store.points_balance(bob).await.unwrap().get(), 0);
    let entries = ledger(&store, alice).await;
    assert_eq!(
        entries,
        [
            (PointKind::Spend, -400, Some(order_id(&writes[1]))),
            (PointKind::Spend, -400, Some(order_id(&writes[0]))),
            (PointKind::Earn, 1_000, entries[2].2),
        ]
    );
    let order = store.order(order_id(&writes[0])).await.unwrap();
    assert_eq!(
        (order.total, order.redemption.points),
        (Won::new(drop.price.get() - 400), Won::new(400))
    );
    assert!(matches!(
        store.order(order_id(&writes[2])).await,
        Err(DbError::NotFound)
    ));
    let (pool, _) = store.pool_snapshot(&drop.pool_key()).await.unwrap();
    assert_eq!(pool.held, 3, "refused orders hold nothing");
}

pub async fn points_are_refunded_and_earned_once_per_order(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 100, 50).await;
    let alice = buyer(&store).await;
    earn(&store, &drop, alice, 1, 1_000).await;
    let at = drop.opens_at;
    let writes = [
        redeeming(&drop, alice, 2, at, None, 300),
        redeeming(&drop, alice, 3, at, None, 200),
        redeeming(&drop, alice, 4, at, None, 100),
    ];
    commit(&store, &writes).await;
    assert_eq!(store.points_balance(alice).await.unwrap().get(), 400);
    let ids: Vec<Uuid> = writes.iter().map(order_id).collect();

    // Every way an order is undone gives its points back, once.
    use OrderStatus::*;
    let undo = [
        vec![(PendingPayment, Cancelled)],
        vec![(PendingPayment, Expired)],
        vec![
            (PendingPayment, Paid),
            (Paid, Shipping),
            (Shipping, Delivered),
            (Delivered, ReturnRequested),
            (ReturnRequested, Returned),
        ],
    ];
    for (id, steps) in ids.iter().zip(&undo) {
        walk(&store, *id, steps, at, 0).await;
        let (from, to) = *steps.last().unwrap();
        let twice = store
            .transition_order(&OrderTransition::new(*id, from, to, at, "again"))
            .await
            .unwrap_err();
        assert!(twice.is_conflict_on(ORDER_STATUS_CHANGED), "{twice:?}");
    }
    let entries = ledger(&store, alice).await;
    let refunds: Vec<_> = entries
        .iter()
        .filter(|(kind, _, _)| *kind == PointKind::Refund)
        .map(|(_, amount, order)| (*amount, order.unwrap()))
        .collect();
    assert_eq!(refunds, [(100, ids[2]), (200, ids[1]), (300, ids[0])]);
    assert_eq!(store.points_balance(alice).await.unwrap().get(), 1_000);

    // Earned once per order, even when two transitions that apply both carry the points.
    let write = purchase(&drop, alice, 1, 5, at);
    commit(&store, std::slice::from_ref(&write)).await;
    walk(&store, order_id(&write), &TO_COMPLETION[..3], at, 890).await;
    let mut complete = OrderTransition::new(order_id(&write), Delivered, Completed, at, "test");
    complete.earn_points = Won::new(890);
    store.transition_order(&complete).await.unwrap();
    let mut replay = OrderTransition::new(order_id(&write), Delivered, Completed, at, "again");
    replay.earn_points = Won::new(890);
    assert!(store.transition_order(&replay).await.is_err());
    let again = store.transition_order(&replay).await.unwrap_err();
    assert!(again.is_conflict_on(ORDER_STATUS_CHANGED), "{again:?}");
    assert_eq!(store.points_balance(alice).await.unwrap().get(), 1_890);
    assert_eq!(ledger(&store, alice).await.len(), 8);
}

pub async fn points_entries_page_newest_first(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 100, 50).await;
    let alice = buyer(&store).await;
    for (seq, points) in [(1, 10), (2, 20), (3, 30)] {
        earn(&store, &drop, alice, seq, points).await;
    }
    let amounts = |entries: Vec<crate::PointEntry>| {
        entries.iter().map(|e| e.amount.get()).collect::<Vec<_>>()
    };
    let page = store.point_entries(alice, None, 2).await.unwrap();
    let last = page.last().unwrap().id;
    assert_eq!(amounts(page), [30, 20]);
    let rest = store.point_entries(alice, Some(last), 2).await.unwrap();
    assert_eq!(amounts(rest), [10]);
    let other = buyer(&store).await;
    assert!(
        store
            .point_entries(other, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
