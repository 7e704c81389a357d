//! Accounts.

use std::sync::Arc;

use rushline_domain::Role;
use uuid::Uuid;

use super::jobs::t0;
use crate::{DbError, Store, USERS_EMAIL_KEY, User};

pub(crate) fn user(email: &str, role: Role) -> User {
    User {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        name: "Kim Minji".to_owned(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
            .to_owned(),
        verified_at: Some(t0()),
        created_at: t0(),
        updated_at: t0(),
    }
}

pub async fn users_round_trip_and_emails_are_unique(store: Arc<dyn Store>) {
    let buyer = user("minji@example.com", Role::Buyer);
    store.insert_user(&buyer).await.unwrap();
    assert_eq!(store.user_by_id(buyer.id).await.unwrap(), buyer);
    assert_eq!(
        store.user_by_email("minji@example.com").await.unwrap(),
        buyer
    );
    assert!(matches!(
        store.user_by_email("nobody@example.com").await,
        Err(DbError::NotFound)
    ));
    assert!(matches!(
        store.user_by_id(Uuid::now_v7()).await,
        Err(DbError::NotFound)
    ));

    let unverified = User {
        verified_at: None,
        ..user("seller@example.com", Role::Seller)
    };
    store.insert_user(&unverified).await.unwrap();
    assert_eq!(store.user_by_id(unverified.id).await.unwrap(), unverified);

    let many: Vec<User> = (0..2_500)
        .map(|i| user(&format!("bulk{i}@example.com"), Role::Buyer))
        .collect();
    store.insert_users(&many).await.unwrap();
    assert_eq!(
        store.user_by_email("bulk2499@example.com").await.unwrap(),
        many[2_499]
    );
    let clash = [
        user("fresh@example.com", Role::Buyer),
        user("bulk7@example.com", Role::Buyer),
    ];
    let error = store.insert_users(&clash).await.unwrap_err();
    assert!(error.is_conflict_on(USERS_EMAIL_KEY), "{error:?}");
    assert!(
        matches!(
            store.user_by_email("fresh@example.com").await,
            Err(DbError::NotFound)
        ),
        "a bulk insert is all or nothing"
    );

    let duplicate = user("minji@example.com", Role::Seller);
    let error = store.insert_user(&duplicate).await.unwrap_err();
    assert!(error.is_conflict_on(USERS_EMAIL_KEY), "{error:?}");
}

pub async fn users_bulk_insert_of_new_users_skips_taken_emails(store: Arc<dyn Store>) {
    let existing = user("minji@example.com", Role::Buyer);
    store.insert_user(&existing).await.unwrap();

    let fresh: Vec<User> = (0..1_500)
        .map(|i| user(&format!("new{i}@example.com"), Role::Buyer))
        .collect();
    let clash = user("minji@example.com", Role::Seller);
    let twin = user("new3@example.com", Role::Seller);
    let batch: Vec<User> = [clash.clone()]
        .into_iter()
        .chain(fresh.iter().cloned())
        .chain([twin.clone()])
        .collect();
    let mut inserted = store.insert_new_users(&batch).await.unwrap();
    inserted.sort();
    let mut expected: Vec<Uuid> = fresh.iter().map(|u| u.id).collect();
    expected.sort();
    assert_eq!(inserted, expected, "only the new e-mails, each once");
    assert_eq!(
        store.user_by_email("minji@example.com").await.unwrap(),
        existing,
        "a taken e-mail keeps its account"
    );
    assert_eq!(
        store.user_by_email("new3@example.com").await.unwrap(),
        fresh[3],
        "the first of two equal e-mails wins"
    );
    assert_eq!(
        store.user_by_id(fresh[1_499].id).await.unwrap(),
        fresh[1_499]
    );
    assert!(matches!(
        store.user_by_id(twin.id).await,
        Err(DbError::NotFound)
    ));

    let again = store.insert_new_users(&batch).await.unwrap();
    assert!(again.is_empty(), "a second run inserts nothing: {again:?}");
    assert!(store.insert_new_users(&[]).await.unwrap().is_empty());
}
