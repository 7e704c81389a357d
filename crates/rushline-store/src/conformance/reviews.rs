//! Product reviews: who may write one, the statistics every write keeps in its transaction, and
//! listings by a keyset in every sort.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rushline_domain::{ApplicationStatus, OrderStatus, RatingHistogram, ReviewSource};
use uuid::Uuid;

use super::drops::{buyer, commit, order_id, purchase, scheduled_drop};
use super::trials::{application, id_of, trial};
use crate::{
    ApplicationTransition, DbError, NewReview, OrderTransition, REVIEWS_APPLICATION_KEY,
    REVIEWS_ONE_PER_BUYER, Review, ReviewQuery, ReviewRight, ReviewSort, Store,
};

fn new_review(
    product: Uuid,
    buyer: Uuid,
    right: ReviewRight,
    rating: i32,
    at: DateTime<Utc>,
) -> NewReview {
    NewReview {
        id: Uuid::now_v7(),
        product_id: product,
        buyer_id: buyer,
        right,
        rating,
        title: Some("Worth it".to_owned()),
        text: "Comfortable from day one.".to_owned(),
        at,
        jobs: Vec::new(),
    }
}

const BOUGHT: ReviewRight = ReviewRight {
    source: ReviewSource::VerifiedPurchase,
    application_id: None,
};

/// The visible reviews of `product`, counted again from their rows.
async fn recount(store: &Arc<dyn Store>, product: Uuid) -> RatingHistogram {
    let mut histogram = RatingHistogram::default();
    for review in listed(store, product, ReviewSort::Newest, None, 1_000).await {
        histogram.add(review.rating, 1);
    }
    histogram
}

async fn listed(
    store: &Arc<dyn Store>,
    product: Uuid,
    sort: ReviewSort,
    after: Option<(i32, DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Vec<Review> {
    store
        .list_reviews(&ReviewQuery {
            product_id: product,
            sort,
            rating: None,
            after,
            limit,
        })
        .await
        .unwrap()
}

pub async fn reviews_rights_follow_orders_and_trial_slots(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let alice = buyer(&store).await;
    let at = drop.opens_at;
    let write = purchase(&drop, alice, 1, 1, at);
    commit(&store, std::slice::from_ref(&write)).await;
    let id = order_id(&write);
    let right = |store: Arc<dyn Store>, buyer: Uuid, by: DateTime<Utc>| async move {
        store
            .review_right(buyer, drop.product_id, by)
            .await
            .unwrap()
    };
    let mut when = at;
    for (from, to) in [
        (OrderStatus::PendingPayment, OrderStatus::Paid),
        (OrderStatus::Paid, OrderStatus::Shipping),
        (OrderStatus::Shipping, OrderStatus::Delivered),
    ] {
        assert_eq!(
            right(store.clone(), alice, when + Duration::days(9)).await,
            None,
            "{from} → {to}"
        );
        when += Duration::minutes(1);
        let mut change = OrderTransition::new(id, from, to, when, "test");
        change.within_hold = from == OrderStatus::PendingPayment;
        store.transition_order(&change).await.unwrap();
    }
    // Delivered at `when`: only once the return window (passed in as `delivered_by`) is over.
    assert_eq!(
        right(store.clone(), alice, when - Duration::seconds(1)).await,
        None
    );
    assert_eq!(right(store.clone(), alice, when).await, Some(BOUGHT));
    let bob = buyer(&store).await;
    assert_eq!(
        right(store.clone(), bob, when).await,
        None,
        "another buyer's order"
    );
    store
        .transition_order(&OrderTransition::new(
            id,
            OrderStatus::Delivered,
            OrderStatus::Completed,
            when,
            "test",
        ))
        .await
        .unwrap();
    assert_eq!(right(store.clone(), alice, at).await, Some(BOUGHT));

    let tried = trial(&store, 3).await;
    let (carol, dave) = (buyer(&store).await, buyer(&store).await);
    let applied = tried.opens_at;
    let writes = [
        application(&tried, carol, 1, applied),
        application(&tried, dave, 2, applied),
    ];
    commit(&store, &writes).await;
    let tested = |buyer| store.review_right(buyer, tried.product_id, applied);
    assert_eq!(
        tested(carol).await.unwrap(),
        Some(ReviewRight {
            source: ReviewSource::Trial,
            application_id: Some(id_of(&writes[0]))
        })
    );
    store
        .transition_application(&ApplicationTransition {
            id: id_of(&writes[1]),
            from: ApplicationStatus::Selected,
            to: ApplicationStatus::Cancelled,
            at: applied,
            jobs: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(tested(dave).await.unwrap(), None, "a cancelled slot");
    assert_eq!(tested(alice).await.unwrap(), None, "bought another product");

    let right = tested(carol).await.unwrap().unwrap();
    let review = store
        .create_review(&new_review(tried.product_id, carol, right, 4, applied))
        .await
        .unwrap();
    assert_eq!(
        (review.source, review.application_id),
        (ReviewSource::Trial, right.application_id)
    );
    let marked = store.application(id_of(&writes[0])).await.unwrap();
    assert_eq!(
        (marked.status, marked.review_id),
        (ApplicationStatus::ReviewSubmitted, Some(review.id))
    );
    let second = store
        .create_review(&new_review(tried.product_id, carol, right, 2, applied))
        .await
        .unwrap_err();
    assert!(
        second.is_conflict_on(REVIEWS_ONE_PER_BUYER)
            || second.is_conflict_on(REVIEWS_APPLICATION_KEY),
        "{second:?}"
    );
    let counts = store.trial_counts(&[tried.id]).await.unwrap()[&tried.id];
    assert_eq!((counts.reviews, counts.average_rating), (1, Some(4.0)));
}

pub async fn reviews_statistics_follow_every_write_in_its_transaction(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let product = drop.product_id;
    let at = drop.opens_at;
    let mut reviews = Vec::new();
    for rating in [5, 4, 4, 1, 3] {
        let buyer = buyer(&store).await;
        reviews.push(
            store
                .create_review(&new_review(product, buyer, BOUGHT, rating, at))
                .await
                .unwrap(),
        );
        assert_eq!(
            store.review_stats(product).await.unwrap(),
            recount(&store, product).await
        );
    }
    let stats = store.review_stats(product).await.unwrap();
    assert_eq!(
        (stats.count(), stats.sum(), stats.min(), stats.max()),
        (5, 17, Some(1), Some(5))
    );

    let later = at + Duration::minutes(1);
    let edited = store
        .update_review(reviews[3].id, 2, None, "Better after a week.", later)
        .await
        .unwrap();
    assert_eq!(
        (edited.rating, edited.title.as_deref(), edited.updated_at),
        (2, None, later)
    );
    assert_eq!(
        store.review_stats(product).await.unwrap(),
        recount(&store, product).await
    );

    let hidden = store.hide_review(reviews[0].id, later).await.unwrap();
    assert_eq!(hidden.hidden_at, Some(later));
    assert_eq!(
        store
            .hide_review(reviews[0].id, later + Duration::minutes(1))
            .await
            .unwrap()
            .hidden_at,
        Some(later)
    );
    // A hidden review's edit and deletion leave the statistics alone.
    store
        .update_review(reviews[0].id, 1, None, "Changed my mind.", later)
        .await
        .unwrap();
    assert_eq!(
        store.review_stats(product).await.unwrap(),
        recount(&store, product).await
    );
    store.delete_review(reviews[0].id).await.unwrap();
    store.delete_review(reviews[1].id).await.unwrap();
    assert!(matches!(
        store.delete_review(reviews[1].id).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.review(reviews[1].id).await,
        Err(DbError::NotFound)
    ));
    let stats = store.review_stats(product).await.unwrap();
    assert_eq!(stats, recount(&store, product).await);
    assert_eq!(stats.stars, [0, 1, 1, 1, 0]);
    let details = store.product_details(product, later).await.unwrap();
    assert_eq!(details.rating, stats);
    assert_eq!(
        store.review_stats(Uuid::now_v7()).await.unwrap(),
        RatingHistogram::default()
    );
}

pub async fn reviews_list_in_every_sort_by_a_keyset(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let product = drop.product_id;
    let mut all = Vec::new();
    for (i, rating) in [5, 3, 5, 5, 1, 3, 5].into_iter().enumerate() {
        // Pairs share a time, so ties fall back to the id.
        let at = drop.opens_at + Duration::seconds(i as i64 / 2);
        let buyer = buyer(&store).await;
        all.push(
            store
                .create_review(&new_review(product, buyer, BOUGHT, rating, at))
                .await
                .unwrap(),
        );
    }
    let newest = |r: &Review| (std::cmp::Reverse(r.created_at), std::cmp::Reverse(r.id));
    for sort in [
        ReviewSort::Newest,
        ReviewSort::RatingDesc,
        ReviewSort::RatingAsc,
    ] {
        let mut expected = all.clone();
        match sort {
            ReviewSort::Newest => expected.sort_by_key(newest),
            ReviewSort::RatingDesc => {
                expected.sort_by_key(|r| (std::cmp::Reverse(r.rating), newest(r)))
            }
            ReviewSort::RatingAsc => expected.sort_by_key(|r| (r.rating, newest(r))),
        }
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = listed(&store, product, sort, after, 2).await;
            after = page.last().map(|r| (r.rating, r.created_at, r.id));
            let last = page.len() < 2;
            paged.extend(page);
            if last {
                break;
            }
        }
        assert_eq!(paged, expected, "{sort:?}");
    }
    let fives = store
        .list_reviews(&ReviewQuery {
            product_id: product,
            sort: ReviewSort::Newest,
            rating: Some(5),
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(fives.len(), 4);
    store.hide_review(all[0].id, drop.opens_at).await.unwrap();
    assert_eq!(
        listed(&store, product, ReviewSort::Newest, None, 10)
            .await
            .len(),
        6
    );
}
