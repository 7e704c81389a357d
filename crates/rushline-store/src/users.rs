//! Accounts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::Role;
use uuid::Uuid;

use crate::DbError;

/// The unique constraint on e-mail addresses (stored lowercased).
pub const USERS_EMAIL_KEY: &str = "users_email_key";

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    /// Lowercased, trimmed.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// An argon2id PHC string.
    pub password_hash: String,
    /// Login is refused until the address is verified.
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict { constraint: USERS_EMAIL_KEY }` when the e-mail is taken.
    async fn insert_user(&self, user: &User) -> Result<(), DbError>;

    /// Inserts many accounts in one transaction (bulk imports): all or none.
    async fn insert_users(&self, users: &[User]) -> Result<(), DbError>;

    /// Inserts, in one transaction, those of `users` whose e-mail is not taken (by an account or
    /// by an earlier one of `users`) and returns the ids of the inserted ones, so that an import
    /// run again skips what it imported before.
    async fn insert_new_users(&self, users: &[User]) -> Result<Vec<Uuid>, DbError>;

    async fn user_by_id(&self, id: Uuid) -> Result<User, DbError>;

    async fn user_by_email(&self, email: &str) -> Result<User, DbError>;
}
