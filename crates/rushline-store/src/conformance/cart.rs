//! Carts, and the pool behind a product's regular stock.

use std::sync::Arc;

use chrono::Duration;
use rushline_domain::catalog::ProductChanges;
use rushline_domain::{Role, Won};
use uuid::Uuid;

use super::catalog::seller_with_product;
use super::drops::commit;
use super::jobs::t0;
use super::users::user;
use crate::{
    CART_ITEMS_QUANTITY_CHECK, ClaimRow, ClaimWrite, DbError, NewOrder, NewOrderLine,
    POOLS_HELD_CHECK, Store, product_pool_key,
};

pub async fn cart_lines_merge_change_and_leave(store: Arc<dyn Store>) {
    let (a, b) = (
        seller_with_product(&store, 1_000, 5).await,
        seller_with_product(&store, 2_000, 5).await,
    );
    let buyer = user(&format!("{}@cart.example", Uuid::now_v7()), Role::Buyer);
    store.insert_user(&buyer).await.unwrap();
    let later = t0() + Duration::seconds(1);
    assert_eq!(
        store
            .add_to_cart(buyer.id, a.id, 2, t0())
            .await
            .unwrap()
            .quantity,
        2
    );
    store.add_to_cart(buyer.id, b.id, 1, later).await.unwrap();
    let merged = store.add_to_cart(buyer.id, a.id, 3, later).await.unwrap();
    assert_eq!(
        (merged.quantity, merged.added_at, merged.updated_at),
        (5, t0(), later)
    );
    let lines: Vec<_> = store
        .cart(buyer.id)
        .await
        .unwrap()
        .iter()
        .map(|l| (l.product_id, l.quantity))
        .collect();
    assert_eq!(lines, [(a.id, 5), (b.id, 1)]);

    assert_eq!(
        store
            .set_cart_quantity(buyer.id, b.id, 7, later)
            .await
            .unwrap()
            .quantity,
        7
    );
    let error = store
        .add_to_cart(buyer.id, a.id, 995, later)
        .await
        .unwrap_err();
    assert!(error.is_conflict_on(CART_ITEMS_QUANTITY_CHECK), "{error:?}");
    assert!(matches!(
        store
            .set_cart_quantity(buyer.id, Uuid::now_v7(), 1, later)
            .await,
        Err(DbError::NotFound)
    ));

    store.remove_from_cart(buyer.id, b.id).await.unwrap();
    assert!(matches!(
        store.remove_from_cart(buyer.id, b.id).await,
        Err(DbError::NotFound)
    ));
    store.add_to_cart(buyer.id, b.id, 1, later).await.unwrap();
    store
        .remove_cart_items(buyer.id, &[a.id, b.id, Uuid::now_v7()])
        .await
        .unwrap();
    assert!(store.cart(buyer.id).await.unwrap().is_empty());
}

pub async fn cart_regular_stock_is_a_pool_that_follows_the_product(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 1_000, 3).await;
    let key = product_pool_key(product.id);
    let (pool, _) = store.pool_snapshot(&key).await.unwrap();
    assert_eq!(
        (pool.total, pool.per_user_limit, pool.held),
        (3, crate::NO_USER_LIMIT, 0)
    );

    let buyer = user(&format!("{}@stock.example", Uuid::now_v7()), Role::Buyer);
    store.insert_user(&buyer).await.unwrap();
    let id = Uuid::now_v7();
    let order = NewOrder {
        id,
        buyer_id: buyer.id,
        idempotency_key: "k".into(),
        total: Won::new(2_000),
        hold_expires_at: t0() + Duration::minutes(10),
        created_at: t0(),
        cause: "checkout",
        lines: vec![NewOrderLine {
            product_id: product.id,
            drop_id: None,
            qty: 2,
            unit_price: Won::new(1_000),
            claim: ClaimRow {
                id,
                pool_key: key.clone(),
                user_id: buyer.id,
                qty: 2,
                seq: 1,
                fingerprint: 1,
                claimed_at: t0(),
                released_at: None,
            },
        }],
        redemption: crate::Redemption::default(),
        max_pending: 1_000,
    };
    commit(&store, &[ClaimWrite::Order(order)]).await;

    let restock = ProductChanges {
        stock: Some(10),
        ..ProductChanges::default()
    };
    store
        .update_product(product.id, &restock, t0())
        .await
        .unwrap();
    assert_eq!(store.pool_snapshot(&key).await.unwrap().0.total, 10);
    let too_low = ProductChanges {
        stock: Some(1),
        ..ProductChanges::default()
    };
    let error = store
        .update_product(product.id, &too_low, t0())
        .await
        .unwrap_err();
    assert!(error.is_conflict_on(POOLS_HELD_CHECK), "{error:?}");
    assert_eq!(
        store.product(product.id).await.unwrap().stock,
        10,
        "a refused stock change changes nothing"
    );
}
