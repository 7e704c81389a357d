//! Payments: each change applies only from the status it expects, so that a payment the sweep
//! is refunding can never be approved, nor its order marked paid.

use std::sync::Arc;

use chrono::Duration;
use rushline_domain::{OrderStatus, PaymentStatus};
use serde_json::json;
use uuid::Uuid;

use super::drops::{buyer, commit, purchase, scheduled_drop};
use crate::{
    ClaimWrite, NewJob, ORDER_STATUS_CHANGED, OrderTransition, PAYMENT_STATUS_CHANGED, Payment,
    Store,
};

pub async fn payments_change_only_from_the_status_they_expect(store: Arc<dyn Store>) {
    let drop = scheduled_drop(&store, 10, 5).await;
    let at = drop.opens_at;
    let write = purchase(&drop, buyer(&store).await, 1, 1, at);
    commit(&store, std::slice::from_ref(&write)).await;
    let ClaimWrite::Order(order) = &write else {
        unreachable!("a purchase writes an order")
    };
    let payment = |provider_ref: &str| Payment {
        id: Uuid::now_v7(),
        order_id: order.id,
        provider: "sandbox".to_owned(),
        amount: order.total,
        status: PaymentStatus::Pending,
        provider_ref: provider_ref.to_owned(),
        failure_code: None,
        created_at: at,
        updated_at: at,
    };
    let later = at + Duration::minutes(6);
    let refund = |payment: &Payment| {
        NewJob::new("refund_payment", json!({ "payment_id": payment.id }), later)
    };
    let mut pay = OrderTransition::new(
        order.id,
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        later,
        "payment",
    );
    pay.within_hold = true;

    // The sweep gave up on a pending payment; its request comes back with the charge too late.
    let swept = payment("swept");
    store.begin_payment(&swept).await.unwrap();
    store
        .refund_later(swept.id, &refund(&swept), later)
        .await
        .unwrap();
    let error = store.approve_payment(swept.id, &pay).await.unwrap_err();
    assert!(error.is_conflict_on(PAYMENT_STATUS_CHANGED), "{error:?}");
    assert_eq!(
        store.order(order.id).await.unwrap().status,
        OrderStatus::PendingPayment,
        "nor is the order paid"
    );
    let error = store
        .settle_payment(
            swept.id,
            PaymentStatus::Pending,
            PaymentStatus::Declined,
            Some("card_declined"),
            later,
            &[],
        )
        .await
        .unwrap_err();
    assert!(error.is_conflict_on(PAYMENT_STATUS_CHANGED), "{error:?}");
    let error = store
        .refund_later(swept.id, &refund(&swept), later)
        .await
        .unwrap_err();
    assert!(error.is_conflict_on(PAYMENT_STATUS_CHANGED), "{error:?}");
    assert_eq!(
        store.list_jobs(None, 10).await.unwrap().len(),
        1,
        "one refund"
    );
    assert_eq!(
        store.payment(swept.id).await.unwrap().status,
        PaymentStatus::Refunding
    );
    // The refund's notification commits with it, and a refused second settling adds none.
    let told = [NewJob::new(
        "notify",
        serde_json::json!({ "refunded": swept.id }),
        later,
    )];
    let refunded = || {
        store.settle_payment(
            swept.id,
            PaymentStatus::Refunding,
            PaymentStatus::Refunded,
            None,
            later,
            &told,
        )
    };
    refunded().await.unwrap();
    let error = refunded().await.unwrap_err();
    assert!(error.is_conflict_on(PAYMENT_STATUS_CHANGED), "{error:?}");
    let jobs = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(
        jobs.iter().filter(|job| job.kind == "notify").count(),
        1,
        "told once, with the refund"
    );

    // A pending payment is approved with its order, both or neither, and once.
    let paid = payment("paid");
    store.begin_payment(&paid).await.unwrap();
    let mut too_late = pay.clone();
    too_late.at = order.hold_expires_at;
    let error = store.approve_payment(paid.id, &too_late).await.unwrap_err();
    assert!(error.is_conflict_on(ORDER_STATUS_CHANGED), "{error:?}");
    assert_eq!(
        store.payment(paid.id).await.unwrap().status,
        PaymentStatus::Pending
    );
    assert_eq!(
        store.approve_payment(paid.id, &pay).await.unwrap().status,
        OrderStatus::Paid
    );
    let approved = store.payment(paid.id).await.unwrap();
    assert_eq!(
        (approved.status, approved.updated_at),
        (PaymentStatus::Approved, later)
    );
    let error = store
        .refund_later(paid.id, &refund(&paid), later)
        .await
        .unwrap_err();
    assert!(
        error.is_conflict_on(PAYMENT_STATUS_CHANGED),
        "the sweep cannot take an approved payment: {error:?}"
    );
}
