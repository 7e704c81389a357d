use async_trait::async_trait;
use rushline_store::{DbError, User, UserStore};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{Db, DbRow, SqlStore, map_err, parse_column};

pub(crate) const COLUMNS: &str =
    "id, email, name, role, password_hash, verified_at, created_at, updated_at";

pub(crate) fn user_from_row(row: &DbRow) -> Result<User, DbError> {
    Ok(User {
        id: row.try_get("id").map_err(map_err)?,
        email: row.try_get("email").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        role: parse_column(row, "role")?,
        password_hash: row.try_get("password_hash").map_err(map_err)?,
        verified_at: row.try_get("verified_at").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

/// Inserts `user` through `executor`: a pool, or a transaction that writes more.
pub(crate) async fn insert_user_row<'e, E>(executor: E, user: &User) -> Result<(), DbError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query(&format!(
        "INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(&user.password_hash)
    .bind(user.verified_at)
    .bind(user.created_at)
    .bind(user.updated_at)
    .execute(executor)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// One multi-row `INSERT` of `users`.
fn insert_many(users: &[User]) -> QueryBuilder<'_, Db> {
    let mut insert = QueryBuilder::<Db>::new(format!("INSERT INTO users ({COLUMNS}) "));
    insert.push_values(users, |mut row, user| {
        row.push_bind(user.id)
            .push_bind(&user.email)
            .push_bind(&user.name)
            .push_bind(user.role.as_str())
            .push_bind(&user.password_hash)
            .push_bind(user.verified_at)
            .push_bind(user.created_at)
            .push_bind(user.updated_at);
    });
    insert
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: &User) -> Result<(), DbError> {
        insert_user_row(self.writer(), user).await
    }

    async fn insert_users(&self, users: &[User]) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        // Chunks keep each statement under the backends' bind-parameter limits.
        for chunk in users.chunks(1_000) {
            insert_many(chunk)
                .build()
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn insert_new_users(&self, users: &[User]) -> Result<Vec<Uuid>, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let mut inserted = Vec::with_capacity(users.len());
        for chunk in users.chunks(1_000) {
            let mut insert = insert_many(chunk);
            insert.push(" ON CONFLICT (email) DO NOTHING RETURNING id");
            let ids: Vec<Uuid> = insert
                .build_query_scalar()
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            inserted.extend(ids);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(inserted)
    }

    async fn user_by_id(&self, id: Uuid) -> Result<User, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        user_from_row(&row)
    }

    async fn user_by_email(&self, email: &str) -> Result<User, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
            .bind(email)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        user_from_row(&row)
    }
}
