//! Products, their listings and search, images and time sales.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rushline_domain::catalog::{ProductChanges, ProductCursor, ProductSort};
use rushline_domain::{ProductStatus, Role, Won};
use uuid::Uuid;

use super::jobs::t0;
use super::users::user;
use crate::{
    DbError, ListScope, PRODUCT_IMAGES_LIMIT, Product, ProductImage, ProductQuery, Store,
    TIME_SALES_NO_OVERLAP, TimeSale, User,
};

pub(crate) async fn seller(store: &Arc<dyn Store>) -> User {
    let seller = user(&format!("{}@seller.example", Uuid::now_v7()), Role::Seller);
    store.insert_user(&seller).await.unwrap();
    seller
}

fn product(
    seller: &User,
    name: &str,
    category: &str,
    price: i64,
    created_at: DateTime<Utc>,
) -> Product {
    Product {
        id: Uuid::now_v7(),
        seller_id: seller.id,
        name: name.to_owned(),
        description: format!("{name}, described"),
        category: category.to_owned(),
        price: Won::new(price),
        stock: 10,
        status: ProductStatus::Active,
        created_at,
        updated_at: created_at,
        deleted_at: None,
        max_per_order: rushline_domain::catalog::DEFAULT_MAX_PER_ORDER,
    }
}

pub(crate) async fn seller_with_product(store: &Arc<dyn Store>, price: i64, stock: i64) -> Product {
    let seller = seller(store).await;
    let product = Product {
        id: Uuid::now_v7(),
        seller_id: seller.id,
        name: "Aurora sneakers".to_owned(),
        description: "Limited colourway".to_owned(),
        category: "shoes".to_owned(),
        price: Won::new(price),
        stock,
        status: ProductStatus::Active,
        created_at: t0(),
        updated_at: t0() + Duration::seconds(1),
        deleted_at: None,
        max_per_order: rushline_domain::catalog::DEFAULT_MAX_PER_ORDER,
    };
    store.insert_product(&product).await.unwrap();
    product
}

fn public(sort: ProductSort, limit: u32) -> ProductQuery {
    ProductQuery {
        scope: ListScope::Active,
        category: None,
        seller_id: None,
        terms: Vec::new(),
        sort,
        after: None,
        limit,
    }
}

async fn ids(store: &Arc<dyn Store>, query: &ProductQuery) -> Vec<Uuid> {
    store
        .list_products(query, t0())
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.product.id)
        .collect()
}

/// Every id of a listing, following cursors page by page; `between` runs after each page.
async fn page_through<F, Fut>(
    store: &Arc<dyn Store>,
    mut query: ProductQuery,
    mut between: F,
) -> Vec<Uuid>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut seen = Vec::new();
    for page in 0.. {
        let products = store.list_products(&query, t0()).await.unwrap();
        seen.extend(products.iter().map(|d| d.product.id));
        let Some(last) = products
            .last()
            .filter(|_| products.len() == query.limit as usize)
        else {
            return seen;
        };
        let p = &last.product;
        query.after = Some(ProductCursor::after(
            query.sort,
            p.created_at,
            p.price,
            p.id,
        ));
        between(page).await;
    }
    unreachable!()
}

pub async fn products_round_trip(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 129_000, 40).await;
    assert_eq!(store.product(product.id).await.unwrap(), product);
    assert!(matches!(
        store.product(Uuid::now_v7()).await,
        Err(DbError::NotFound)
    ));
}

pub async fn catalog_listing_filters_scopes_and_sorts(store: Arc<dyn Store>) {
    let (alice, bob) = (seller(&store).await, seller(&store).await);
    let at = |s: i64| t0() + Duration::seconds(s);
    let boots = product(&alice, "Boots", "shoes", 50_000, at(1));
    let sandals = product(&alice, "Sandals", "shoes", 30_000, at(2));
    let coat = product(&bob, "Coat", "outerwear", 30_000, at(3));
    let scarf = product(&bob, "Scarf", "accessories", 10_000, at(4));
    let draft = Product {
        status: ProductStatus::Draft,
        ..product(&alice, "Draft", "shoes", 1_000, at(5))
    };
    let archived = Product {
        status: ProductStatus::Archived,
        ..product(&alice, "Archived", "shoes", 2_000, at(6))
    };
    let deleted = Product {
        deleted_at: Some(at(8)),
        ..product(&alice, "Deleted", "shoes", 3_000, at(7))
    };
    for p in [&boots, &sandals, &coat, &scarf, &draft, &archived, &deleted] {
        store.insert_product(p).await.unwrap();
    }

    assert_eq!(
        ids(&store, &public(ProductSort::Newest, 10)).await,
        [scarf.id, coat.id, sandals.id, boots.id],
        "the public listing shows active products only, newest first"
    );
    // Equal prices are ordered by id, the same way in both directions.
    let (first_30k, second_30k) = if sandals.id < coat.id {
        (sandals.id, coat.id)
    } else {
        (coat.id, sandals.id)
    };
    assert_eq!(
        ids(&store, &public(ProductSort::PriceAsc, 10)).await,
        [scarf.id, first_30k, second_30k, boots.id]
    );
    assert_eq!(
        ids(&store, &public(ProductSort::PriceDesc, 10)).await,
        [boots.id, second_30k, first_30k, scarf.id]
    );
    assert_eq!(
        ids(&store, &public(ProductSort::Newest, 2)).await,
        [scarf.id, coat.id]
    );

    let shoes = ProductQuery {
        category: Some("shoes".to_owned()),
        ..public(ProductSort::PriceAsc, 10)
    };
    assert_eq!(ids(&store, &shoes).await, [sandals.id, boots.id]);

    let bobs = ProductQuery {
        seller_id: Some(bob.id),
        ..public(ProductSort::Newest, 10)
    };
    assert_eq!(ids(&store, &bobs).await, [scarf.id, coat.id]);

    let alices_own = ProductQuery {
        scope: ListScope::OwnedBy(alice.id),
        ..public(ProductSort::Newest, 10)
    };
    assert_eq!(
        ids(&store, &alices_own).await,
        [archived.id, draft.id, sandals.id, boots.id],
        "a seller's own listing has every status but never deleted products"
    );
    let alices_shoes_by_bob = ProductQuery {
        seller_id: Some(bob.id),
        category: Some("shoes".to_owned()),
        ..alices_own.clone()
    };
    assert!(ids(&store, &alices_shoes_by_bob).await.is_empty());

    let all_pages = page_through(&store, public(ProductSort::PriceDesc, 1), |_| async {}).await;
    assert_eq!(
        all_pages,
        ids(&store, &public(ProductSort::PriceDesc, 10)).await
    );
}

pub async fn catalog_listing_search_follows_name_and_description(store: Arc<dyn Store>) {
    let alice = seller(&store).await;
    let mut aurora = product(&alice, "Aurora sneakers", "shoes", 10_000, t0());
    aurora.description = "Limited 한정판 colourway, hand-stitched".to_owned();
    let boreal = product(
        &alice,
        "Borealis boots",
        "shoes",
        20_000,
        t0() + Duration::seconds(1),
    );
    store.insert_product(&aurora).await.unwrap();
    store.insert_product(&boreal).await.unwrap();
    let search = |terms: &[&str]| ProductQuery {
        terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        ..public(ProductSort::Newest, 10)
    };

    assert_eq!(ids(&store, &search(&["aurora"])).await, [aurora.id]);
    assert_eq!(
        ids(&store, &search(&["한정판"])).await,
        [aurora.id],
        "description words"
    );
    assert_eq!(ids(&store, &search(&["stitched"])).await, [aurora.id]);
    assert_eq!(
        ids(&store, &search(&["aurora", "limited"])).await,
        [aurora.id]
    );
    assert!(
        ids(&store, &search(&["aurora", "boots"])).await.is_empty(),
        "every word must match"
    );
    assert!(
        ids(&store, &search(&["auror"])).await.is_empty(),
        "whole words"
    );
    assert_eq!(
        ids(&store, &search(&["described"])).await,
        [boreal.id],
        "only boreal kept the generated description"
    );

    let renamed = ProductChanges {
        name: Some("Zenith runners".to_owned()),
        ..ProductChanges::default()
    };
    store
        .update_product(aurora.id, &renamed, t0() + Duration::seconds(5))
        .await
        .unwrap();
    assert!(
        ids(&store, &search(&["aurora"])).await.is_empty(),
        "the old name is forgotten"
    );
    assert_eq!(ids(&store, &search(&["zenith"])).await, [aurora.id]);
    assert_eq!(ids(&store, &search(&["한정판"])).await, [aurora.id]);

    store
        .delete_product(aurora.id, t0() + Duration::seconds(6))
        .await
        .unwrap();
    assert!(ids(&store, &search(&["zenith"])).await.is_empty());
    let in_category = ProductQuery {
        category: Some("shoes".to_owned()),
        ..search(&["borealis"])
    };
    assert_eq!(ids(&store, &in_category).await, [boreal.id]);
}

pub async fn catalog_listing_pages_stay_stable_under_concurrent_inserts(store: Arc<dyn Store>) {
    let alice = seller(&store).await;
    let mut originals = Vec::new();
    for i in 0..30 {
        let p = product(
            &alice,
            &format!("Item {i}"),
            "misc",
            1_000 * (i % 7 + 1),
            t0() + Duration::seconds(i),
        );
        store.insert_product(&p).await.unwrap();
        originals.push(p);
    }
    for sort in [
        ProductSort::Newest,
        ProductSort::PriceAsc,
        ProductSort::PriceDesc,
    ] {
        let expected = ids(&store, &public(sort, 1_000)).await;
        // Writers keep adding products with every kind of key (newer, older, cheaper, dearer,
        // equal prices) while a reader pages through.
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (store, alice) = (store.clone(), alice.clone());
                tokio::spawn(async move {
                    for i in 0..20 {
                        let created_at = t0() + Duration::milliseconds(i * 1_517 - 5_000 + w);
                        let p = product(&alice, "Newcomer", "misc", 500 * (i % 17 + 1), created_at);
                        store.insert_product(&p).await.unwrap();
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let seen = page_through(&store, public(sort, 4), |_| tokio::task::yield_now()).await;
        for writer in writers {
            writer.await.unwrap();
        }
        let original_ids: HashSet<Uuid> = originals.iter().map(|p| p.id).collect();
        let seen_originals: Vec<Uuid> = seen
            .iter()
            .copied()
            .filter(|id| original_ids.contains(id))
            .collect();
        let expected_originals: Vec<Uuid> = expected
            .iter()
            .copied()
            .filter(|id| original_ids.contains(id))
            .collect();
        assert_eq!(
            seen_originals, expected_originals,
            "{sort}: every product that existed throughout is seen once, in order"
        );
        let unique: HashSet<&Uuid> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a product appeared twice");
    }
}

pub async fn catalog_updates_and_soft_deletes(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 129_000, 40).await;
    let later = t0() + Duration::minutes(5);
    let changes = ProductChanges {
        name: Some("Aurora sneakers II".to_owned()),
        price: Some(Won::new(99_000)),
        status: Some(ProductStatus::Archived),
        ..ProductChanges::default()
    };
    let updated = store
        .update_product(product.id, &changes, later)
        .await
        .unwrap();
    assert_eq!(
        updated,
        Product {
            name: "Aurora sneakers II".to_owned(),
            price: Won::new(99_000),
            status: ProductStatus::Archived,
            updated_at: later,
            ..product.clone()
        }
    );
    assert_eq!(store.product(product.id).await.unwrap(), updated);

    let nothing = store
        .update_product(product.id, &ProductChanges::default(), later)
        .await
        .unwrap();
    assert_eq!(nothing, updated);

    let bad_price = ProductChanges {
        price: Some(Won::new(0)),
        ..ProductChanges::default()
    };
    let error = store
        .update_product(product.id, &bad_price, later)
        .await
        .unwrap_err();
    assert!(error.is_conflict_on("products_price_check"), "{error:?}");

    let deleted_at = later + Duration::seconds(1);
    store.delete_product(product.id, deleted_at).await.unwrap();
    let deleted = store.product(product.id).await.unwrap();
    assert_eq!(deleted.deleted_at, Some(deleted_at));
    assert_eq!(
        store
            .product_details(product.id, later)
            .await
            .unwrap()
            .product,
        deleted
    );
    assert!(matches!(
        store.delete_product(product.id, deleted_at).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.update_product(product.id, &changes, deleted_at).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.delete_product(Uuid::now_v7(), deleted_at).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.product_details(Uuid::now_v7(), deleted_at).await,
        Err(DbError::NotFound)
    ));
    let own = ProductQuery {
        scope: ListScope::OwnedBy(product.seller_id),
        ..public(ProductSort::Newest, 10)
    };
    assert!(ids(&store, &own).await.is_empty());
}

fn sale(product: &Product, price: i64, from_min: i64, to_min: i64) -> TimeSale {
    TimeSale {
        id: Uuid::now_v7(),
        product_id: product.id,
        price: Won::new(price),
        starts_at: t0() + Duration::minutes(from_min),
        ends_at: t0() + Duration::minutes(to_min),
        created_at: t0(),
    }
}

pub async fn catalog_time_sales_refuse_overlaps(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 100_000, 5).await;
    let first = sale(&product, 80_000, 10, 20);
    store.insert_time_sale(&first).await.unwrap();
    for overlapping in [
        sale(&product, 70_000, 10, 20),
        sale(&product, 70_000, 19, 30),
        sale(&product, 70_000, 0, 11),
        sale(&product, 70_000, 12, 13),
        sale(&product, 70_000, 0, 40),
    ] {
        let error = store.insert_time_sale(&overlapping).await.unwrap_err();
        assert!(error.is_conflict_on(TIME_SALES_NO_OVERLAP), "{error:?}");
    }
    let before = sale(&product, 90_000, 0, 10);
    let after = sale(&product, 60_000, 20, 30);
    store.insert_time_sale(&after).await.unwrap();
    store.insert_time_sale(&before).await.unwrap();
    assert_eq!(
        store.time_sales(product.id).await.unwrap(),
        [before.clone(), first.clone(), after.clone()],
        "back-to-back windows do not overlap; listed by start"
    );

    // Another product's sales are independent.
    let other = seller_with_product(&store, 100_000, 5).await;
    store
        .insert_time_sale(&sale(&other, 1_000, 10, 20))
        .await
        .unwrap();

    // Concurrent overlapping inserts: exactly one wins.
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let (store, sale) = (store.clone(), sale(&product, 50_000, 100 + i, 110 + i));
            tokio::spawn(async move { store.insert_time_sale(&sale).await })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => won += 1,
            Err(e) => assert!(e.is_conflict_on(TIME_SALES_NO_OVERLAP), "{e:?}"),
        }
    }
    assert_eq!(won, 1);

    let backwards = sale(&product, 50_000, 300, 290);
    let error = store.insert_time_sale(&backwards).await.unwrap_err();
    assert!(error.is_conflict_on("time_sales_window_check"), "{error:?}");

    assert!(matches!(
        store
            .insert_time_sale(&TimeSale {
                product_id: Uuid::now_v7(),
                ..sale(&product, 1, 500, 501)
            })
            .await,
        Err(DbError::NotFound)
    ));
    store.delete_product(product.id, t0()).await.unwrap();
    assert!(matches!(
        store.insert_time_sale(&sale(&product, 1, 500, 501)).await,
        Err(DbError::NotFound)
    ));
}

fn image(product: &Product, n: i64) -> ProductImage {
    ProductImage {
        id: Uuid::now_v7(),
        product_id: product.id,
        content_type: "image/png".to_owned(),
        size_bytes: 1_000 + n,
        sha256: format!("{n:064x}"),
        created_at: t0() + Duration::seconds(n),
    }
}

pub async fn catalog_images_are_limited_per_product(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 100_000, 5).await;
    let first = image(&product, 0);
    store.add_product_image(&first, 3).await.unwrap();
    assert_eq!(
        store.product_image(product.id, first.id).await.unwrap(),
        first
    );
    assert!(matches!(
        store.product_image(Uuid::now_v7(), first.id).await,
        Err(DbError::NotFound)
    ));

    // Concurrent uploads never pass the limit.
    let racers: Vec<_> = (1..=6)
        .map(|n| {
            let (store, image) = (store.clone(), image(&product, n));
            tokio::spawn(async move { store.add_product_image(&image, 3).await })
        })
        .collect();
    let mut added = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => added += 1,
            Err(e) => assert!(e.is_conflict_on(PRODUCT_IMAGES_LIMIT), "{e:?}"),
        }
    }
    assert_eq!(added, 2);
    assert_eq!(
        store
            .product_details(product.id, t0())
            .await
            .unwrap()
            .images
            .len(),
        3
    );

    let bad = ProductImage {
        content_type: "image/gif".to_owned(),
        ..image(&seller_with_product(&store, 1, 1).await, 9)
    };
    let error = store.add_product_image(&bad, 3).await.unwrap_err();
    assert!(
        error.is_conflict_on("product_images_content_type_check"),
        "{error:?}"
    );

    store.delete_product(product.id, t0()).await.unwrap();
    assert!(matches!(
        store.add_product_image(&image(&product, 10), 30).await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.product_image(product.id, first.id).await,
        Err(DbError::NotFound)
    ));
}

pub async fn catalog_details_carry_images_and_pending_time_sales(store: Arc<dyn Store>) {
    let product = seller_with_product(&store, 100_000, 5).await;
    let other = seller_with_product(&store, 50_000, 5).await;
    let (second, first) = (image(&product, 2), image(&product, 1));
    store.add_product_image(&second, 10).await.unwrap();
    store.add_product_image(&first, 10).await.unwrap();
    store
        .add_product_image(&image(&other, 1), 10)
        .await
        .unwrap();
    let ended = sale(&product, 90_000, -20, -10);
    let active = sale(&product, 80_000, -10, 10);
    let upcoming = sale(&product, 70_000, 10, 20);
    for s in [&upcoming, &ended, &active] {
        store.insert_time_sale(s).await.unwrap();
    }

    let details = store.product_details(product.id, t0()).await.unwrap();
    assert_eq!(details.product, product);
    assert_eq!(
        details.images,
        [first.clone(), second.clone()],
        "oldest first"
    );
    assert_eq!(
        details.time_sales,
        [active.clone(), upcoming.clone()],
        "not ended, by start"
    );
    let at_end = t0() + Duration::minutes(10);
    assert_eq!(
        store
            .product_details(product.id, at_end)
            .await
            .unwrap()
            .time_sales,
        [upcoming],
        "a sale has ended at its ends_at"
    );

    let listed = store
        .list_products(&public(ProductSort::PriceDesc, 10), t0())
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], details);
    assert_eq!(listed[1].product, other);
    assert_eq!(listed[1].images.len(), 1);
    assert!(listed[1].time_sales.is_empty());
}
