//! Products.

use std::sync::Arc;

use chrono::Duration;
use rushline_domain::{ProductStatus, Role};
use uuid::Uuid;

use super::jobs::t0;
use super::users::user;
use crate::{DbError, Product, Store};

pub(crate) async fn seller_with_product(store: &Arc<dyn Store>, price: i64, stock: i64) -> Product {
    let seller = user(&format!("{}@seller.example", Uuid::now_v7()), Role::Seller);
    store.insert_user(&seller).await.unwrap();
    let product = Product {
        id: Uuid::now_v7(),
        seller_id: seller.id,
        name: "Aurora sneakers".to_owned(),
        description: "Limited colourway".to_owned(),
        category: "shoes".to_owned(),
        price,
        stock,
        status: ProductStatus::Active,
        created_at: t0(),
        updated_at: t0() + Duration::seconds(1),
        deleted_at: None,
    };
    store.insert_product(&product).await.unwrap();
    product
}

pub async fn products_round_trip(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 129_000, 40).await;
    assert_eq!(store.product(product.id).await.unwrap(), product);
    assert!(matches!(
        store.product(Uuid::now_v7()).await,
        Err(DbError::NotFound)
    ));
}
