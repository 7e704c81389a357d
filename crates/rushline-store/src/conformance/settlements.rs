//! Settlement runs: each order settled once, lines summing to their settlement, corrections as
//! later revisions, dry runs that write nothing, payouts recorded once; and the daily roll-up of
//! seller statistics.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rushline_domain::{FeeRate, OrderStatus, Won};
use uuid::Uuid;

use super::drops::{buyer, commit, order_id, purchase, scheduled_drop};
use crate::{
    DbError, DropSale, NewJob, OrderTransition, ProductDrop, RoomFigures, SETTLEMENT_PAID,
    Settlement, SettlementFilter, SettlementRun, Store,
};

/// Buys `qty` units of `drop` and walks the order to `completed` at `completed_at`.
async fn completed(
    store: &Arc<dyn Store>,
    drop: &ProductDrop,
    qty: i32,
    seq: i64,
    completed_at: DateTime<Utc>,
) -> Uuid {
    let write = purchase(drop, buyer(store).await, qty, seq, drop.opens_at);
    commit(store, std::slice::from_ref(&write)).await;
    let id = order_id(&write);
    let steps = [
        (OrderStatus::PendingPayment, OrderStatus::Paid),
        (OrderStatus::Paid, OrderStatus::Shipping),
        (OrderStatus::Shipping, OrderStatus::Delivered),
        (OrderStatus::Delivered, OrderStatus::Completed),
    ];
    for (i, (from, to)) in steps.into_iter().enumerate() {
        let at = if to == OrderStatus::Completed {
            completed_at
        } else {
            drop.opens_at + Duration::seconds(i as i64 + 1)
        };
        let mut step = OrderTransition::new(id, from, to, at, "test");
        step.within_hold = from == OrderStatus::PendingPayment;
        store.transition_order(&step).await.unwrap();
    }
    id
}

fn run(day: NaiveDate, start: DateTime<Utc>, dry_run: bool) -> SettlementRun {
    let mid = start + Duration::hours(12);
    SettlementRun {
        day,
        windows: vec![(start, mid), (mid, start + Duration::days(1))],
        seller: None,
        platform_fee: FeeRate::from_fraction(0.05).unwrap(),
        payment_fee: FeeRate::from_fraction(0.033).unwrap(),
        at: start + Duration::days(2),
        dry_run,
        notice: told,
    }
}

fn told(settlement: &Settlement) -> NewJob {
    NewJob::new(
        "notify",
        serde_json::json!({ "settlement": settlement.id }),
        settlement.created_at,
    )
}

/// The notices the runs enqueued, by settlement id.
async fn notices(store: &Arc<dyn Store>) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .list_jobs(None, 100)
        .await
        .unwrap()
        .iter()
        .filter(|job| job.kind == "notify")
        .filter_map(|job| job.payload["settlement"].as_i64())
        .collect();
    ids.sort();
    ids
}

fn all(seller: Uuid) -> SettlementFilter {
    SettlementFilter {
        seller: Some(seller),
        limit: 100,
        ..SettlementFilter::default()
    }
}

fn amounts(s: &Settlement) -> [i64; 7] {
    [
        s.gross,
        s.seller_discount,
        s.platform_discount,
        s.points,
        s.platform_fee,
        s.payment_fee,
        s.net,
    ]
    .map(Won::get)
}

pub async fn settlements_settle_each_order_once_with_corrections_and_payouts(
    store: Arc<dyn Store>,
) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let day = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
    let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let first = completed(&store, &drop, 1, 1, start + Duration::hours(3)).await;
    let second = completed(&store, &drop, 2, 2, start + Duration::hours(20)).await;
    // The day after: not this day's.
    completed(&store, &drop, 1, 3, start + Duration::days(1)).await;

    let seen = Mutex::new(Vec::new());
    let settled = store
        .settle(&run(day, start, false), &|lines| {
            seen.lock().unwrap().push(lines)
        })
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [1, 2],
        "lines so far, after each window"
    );
    assert_eq!(settled.len(), 1);
    let s = &settled[0];
    assert_eq!(
        (s.seller_id, s.business_day, s.revision, s.orders),
        (drop.seller_id, day, 1, 2)
    );
    // 89,000 and 178,000: 5 % is 4,450 and 8,900; 3.3 % is 2,937 and 5,874.
    assert_eq!(amounts(s), [267_000, 0, 0, 0, 13_350, 8_811, 244_839]);
    assert_eq!(
        (s.platform_fee_ppm, s.payment_fee_ppm, s.paid_at),
        (50_000, 33_000, None)
    );
    let lines = store
        .settlement_lines(drop.seller_id, day, None, 100)
        .await
        .unwrap();
    let mut orders: Vec<Uuid> = lines.iter().map(|l| l.order_id).collect();
    orders.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(orders, expected);
    for (i, total) in amounts(s).into_iter().enumerate() {
        let sum: i64 = lines
            .iter()
            .map(|l| {
                [
                    l.gross,
                    l.seller_discount,
                    l.platform_discount,
                    l.points,
                    l.platform_fee,
                    l.payment_fee,
                    l.net,
                ][i]
                    .get()
            })
            .sum();
        assert_eq!(sum, total, "column {i}");
    }
    let page = store
        .settlement_lines(drop.seller_id, day, None, 1)
        .await
        .unwrap();
    let rest = store
        .settlement_lines(
            drop.seller_id,
            day,
            Some((page[0].revision, page[0].order_id)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(page.len() + rest.len(), 2);

    // Again: nothing new. A late completion of the day: a dry run shows it and writes nothing,
    // the next run writes it as revision 2.
    assert!(
        store
            .settle(&run(day, start, false), &|_| {})
            .await
            .unwrap()
            .is_empty()
    );
    let late = completed(&store, &drop, 1, 4, start + Duration::hours(23)).await;
    let dry = store.settle(&run(day, start, true), &|_| {}).await.unwrap();
    assert_eq!((dry.len(), dry[0].revision, dry[0].orders), (1, 2, 1));
    assert_eq!(
        store.list_settlements(&all(drop.seller_id)).await.unwrap(),
        settled
    );
    let correction = store
        .settle(&run(day, start, false), &|_| {})
        .await
        .unwrap();
    assert_eq!((correction[0].revision, correction[0].orders), (2, 1));
    assert_eq!(
        notices(&store).await,
        [settled[0].id, correction[0].id],
        "each settlement written tells its seller once; a dry run tells no one"
    );
    assert_eq!(
        amounts(&correction[0]),
        [89_000, 0, 0, 0, 4_450, 2_937, 81_613]
    );
    let listed = store.list_settlements(&all(drop.seller_id)).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], settled[0], "the first settlement is unchanged");
    let lines = store
        .settlement_lines(drop.seller_id, day, Some((1, Uuid::max())), 10)
        .await
        .unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.revision, l.order_id))
            .collect::<Vec<_>>(),
        [(2, late)]
    );

    // Paid once; never found twice.
    let paid_at = start + Duration::days(3);
    let paid = store.mark_settlement_paid(s.id, paid_at).await.unwrap();
    assert_eq!((paid.paid_at, amounts(&paid)), (Some(paid_at), amounts(s)));
    let again = store.mark_settlement_paid(s.id, paid_at).await.unwrap_err();
    assert!(again.is_conflict_on(SETTLEMENT_PAID), "{again:?}");
    assert!(matches!(
        store.mark_settlement_paid(-1, paid_at).await,
        Err(DbError::NotFound)
    ));
    assert_eq!(store.settlement(s.id).await.unwrap(), paid);
    let day_filter = SettlementFilter {
        from: Some(day),
        to: Some(day),
        limit: 1,
        ..SettlementFilter::default()
    };
    let first_page = store.list_settlements(&day_filter).await.unwrap();
    let key = (
        first_page[0].business_day,
        first_page[0].seller_id,
        first_page[0].revision,
    );
    let second_page = store
        .list_settlements(&SettlementFilter {
            after: Some(key),
            ..day_filter
        })
        .await
        .unwrap();
    assert_eq!((first_page[0].revision, second_page[0].revision), (1, 2));

    // The roll-up: orders placed on the drop's day (all four), whatever their completion day.
    let placed = drop.opens_at.date_naive();
    let from = placed.and_hms_opt(0, 0, 0).unwrap().and_utc();
    store
        .roll_up_seller_days(placed, from, from + Duration::days(1), paid_at)
        .await
        .unwrap();
    let days = store
        .seller_days(drop.seller_id, placed, day)
        .await
        .unwrap();
    let rolled = days.iter().find(|d| d.day == placed).unwrap();
    assert_eq!(
        (rolled.orders, rolled.units, rolled.gross),
        (4, 5, Won::new(445_000))
    );
    let settled_day = days.iter().find(|d| d.day == day).unwrap();
    assert_eq!(settled_day.net, Won::new(244_839 + 81_613));

    // A drop's sale is rolled up once: the first roll-up stands.
    assert!(store.drop_sales(&[drop.id]).await.unwrap().is_empty());
    let sale = DropSale {
        drop_id: drop.id,
        units_sold: 5,
        last_grant_at: Some(drop.opens_at + Duration::milliseconds(2_500)),
        peak_per_second: 3,
        room: Some(RoomFigures {
            peak_waiting: 120,
            admitted: 40,
            used: 5,
            median_wait_seconds: Some(95),
        }),
    };
    store.record_drop_sale(&sale, paid_at).await.unwrap();
    let again = DropSale {
        units_sold: 4,
        room: None,
        ..sale.clone()
    };
    store.record_drop_sale(&again, paid_at).await.unwrap();
    // A drop without a room, and one whose room admitted nobody.
    let (roomless, unadmitted) = (
        scheduled_drop(&store, 10, 5).await.id,
        scheduled_drop(&store, 10, 5).await.id,
    );
    let bare = DropSale {
        drop_id: roomless,
        room: None,
        ..sale.clone()
    };
    let empty = DropSale {
        drop_id: unadmitted,
        room: Some(RoomFigures {
            peak_waiting: 3,
            admitted: 0,
            used: 0,
            median_wait_seconds: None,
        }),
        ..sale.clone()
    };
    store.record_drop_sale(&bare, paid_at).await.unwrap();
    store.record_drop_sale(&empty, paid_at).await.unwrap();
    let mut read = store
        .drop_sales(&[drop.id, Uuid::now_v7(), roomless, unadmitted])
        .await
        .unwrap();
    read.sort_by_key(|s| {
        [drop.id, roomless, unadmitted]
            .iter()
            .position(|id| *id == s.drop_id)
    });
    assert_eq!(read, vec![sale, bare, empty]);
    assert!(store.drop_sales(&[]).await.unwrap().is_empty());
}
