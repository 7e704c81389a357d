use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use const_format::formatcp;
use rushline_store::{
    DbError, IdentityStore, NewJob, ResendOutcome, RotateOutcome, User, VerificationCode,
    VerifyOutcome,
};
use sqlx::Row;
use uuid::Uuid;

use super::jobs::insert_job;
use super::users::{COLUMNS as USER_COLUMNS, insert_user_row, user_from_row};
use super::{DbConnection, FOR_UPDATE, SqlStore, map_err};

// Concurrent transactions on one account or token serialise, so that every wrong code is
// counted and a token is rotated at most once: verification and resend lock the user row,
// rotation the presented token's row (FOR_UPDATE; on SQLite the one writer runs them in turn).

async fn user_in(conn: &mut DbConnection, id: Uuid) -> Result<User, DbError> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(map_err)?;
    user_from_row(&row)
}

async fn locked_user(conn: &mut DbConnection, id: Uuid) -> Result<User, DbError> {
    let row = sqlx::query(formatcp!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1{FOR_UPDATE}"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
    .map_err(map_err)?;
    user_from_row(&row)
}

/// The account a refresh token belongs to, if the token exists.
async fn token_owner(conn: &mut DbConnection, token_hash: &str) -> Result<Option<Uuid>, DbError> {
    sqlx::query_scalar("SELECT user_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(conn)
        .await
        .map_err(map_err)
}

async fn upsert_code(conn: &mut DbConnection, code: &VerificationCode) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO verification_codes (user_id, code_hash, expires_at, attempts, sent_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, \
         expires_at = excluded.expires_at, attempts = excluded.attempts, sent_at = excluded.sent_at",
    )
    .bind(code.user_id)
    .bind(&code.code_hash)
    .bind(code.expires_at)
    .bind(code.attempts)
    .bind(code.sent_at)
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn sign_up(
        &self,
        user: &User,
        code: &VerificationCode,
        mail: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        insert_user_row(&mut *tx, user).await?;
        upsert_code(&mut tx, code).await?;
        insert_job(&mut *tx, mail, now).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn verify_email(
        &self,
        user_id: Uuid,
        code_hash: &str,
        max_attempts: i32,
        now: DateTime<Utc>,
    ) -> Result<VerifyOutcome, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let user = locked_user(&mut tx, user_id).await?;
        let row = sqlx::query(
            "SELECT code_hash, expires_at, attempts FROM verification_codes WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let verified = user.verified_at.is_some();
        let Some(row) = row else {
            return Ok(if verified {
                VerifyOutcome::WrongCode
            } else {
                VerifyOutcome::Expired
            });
        };
        let expires_at: DateTime<Utc> = row.try_get("expires_at").map_err(map_err)?;
        let attempts: i32 = row.try_get("attempts").map_err(map_err)?;
        let stored: String = row.try_get("code_hash").map_err(map_err)?;
        if verified {
            // The code that verified the account, kept so that a retry is answered again; any
            // other is wrong, and counted, so that no one can find the profile by guessing.
            if stored == code_hash && attempts < max_attempts {
                return Ok(VerifyOutcome::AlreadyVerified(user));
            }
            sqlx::query("UPDATE verification_codes SET attempts = attempts + 1 WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            return Ok(VerifyOutcome::WrongCode);
        }
        if expires_at <= now || attempts >= max_attempts {
            return Ok(VerifyOutcome::Expired);
        }
        if stored != code_hash {
            sqlx::query("UPDATE verification_codes SET attempts = attempts + 1 WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            return Ok(VerifyOutcome::WrongCode);
        }
        let row = sqlx::query(&format!(
            "UPDATE users SET verified_at = $2, updated_at = $2 WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(VerifyOutcome::Verified(user_from_row(&row)?))
    }

    async fn resend_code(
        &self,
        code: &VerificationCode,
        mail: &NewJob,
        resend_after: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<ResendOutcome, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let user = locked_user(&mut tx, code.user_id).await?;
        if user.verified_at.is_some() {
            return Ok(ResendOutcome::AlreadyVerified);
        }
        let sent_at: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT sent_at FROM verification_codes WHERE user_id = $1")
                .bind(code.user_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if let Some(retry_at) = sent_at.map(|sent| sent + resend_after)
            && now < retry_at
        {
            return Ok(ResendOutcome::TooSoon { retry_at });
        }
        upsert_code(&mut tx, code).await?;
        insert_job(&mut *tx, mail, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(ResendOutcome::Sent)
    }

    async fn create_session(
        &self,
        user_id: Uuid,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Uuid, DbError> {
        let session = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(user_id)
        .bind(session)
        .bind(token_hash)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(session)
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        // The account first, as a password change and a logout lock it: whichever of them
        // commits first, the other then sees what it did, and no token is made beside a
        // revocation.
        let Some(owner) = token_owner(&mut tx, presented_hash).await? else {
            return Ok(RotateOutcome::Unknown);
        };
        locked_user(&mut tx, owner).await?;
        let Some(row) = sqlx::query(formatcp!(
            "SELECT id, user_id, family_id, expires_at, spent_at, revoked_at \
             FROM refresh_tokens WHERE token_hash = $1{FOR_UPDATE}"
        ))
        .bind(presented_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?
        else {
            return Ok(RotateOutcome::Unknown);
        };
        let id: Uuid = row.try_get("id").map_err(map_err)?;
        let user_id: Uuid = row.try_get("user_id").map_err(map_err)?;
        let session: Uuid = row.try_get("family_id").map_err(map_err)?;
        let expires_at: DateTime<Utc> = row.try_get("expires_at").map_err(map_err)?;
        let spent_at: Option<DateTime<Utc>> = row.try_get("spent_at").map_err(map_err)?;
        let revoked_at: Option<DateTime<Utc>> = row.try_get("revoked_at").map_err(map_err)?;
        if revoked_at.is_some() {
            return Ok(RotateOutcome::Revoked);
        }
        if spent_at.is_some() {
            sqlx::query(
                "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
            )
            .bind(session)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            return Ok(RotateOutcome::Reused);
        }
        if expires_at <= now {
            return Ok(RotateOutcome::Expired);
        }
        sqlx::query("UPDATE refresh_tokens SET spent_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(user_id)
        .bind(session)
        .bind(next_hash)
        .bind(next_expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let user = user_in(&mut tx, user_id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(RotateOutcome::Rotated { user, session })
    }

    async fn end_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let Some(owner) = token_owner(&mut tx, token_hash).await? else {
            return Ok(());
        };
        locked_user(&mut tx, owner).await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE revoked_at IS NULL \
             AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn session_holder(
        &self,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM refresh_tokens \
             WHERE family_id = $1 AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
             LIMIT 1)"
        ))
        .bind(session)
        .bind(now)
        .fetch_optional(self.reader())
        .await
        .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn update_profile(
        &self,
        user_id: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE users SET name = $2, updated_at = $3 WHERE id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(user_id)
        .bind(name)
        .bind(now)
        .fetch_one(self.writer())
        .await
        .map_err(map_err)?;
        user_from_row(&row)
    }

    async fn change_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        keep_session: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let updated =
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(user_id)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        if updated == 0 {
            return Err(DbError::NotFound);
        }
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL \
             AND ($2 IS NULL OR family_id <> $2)",
        )
        .bind(user_id)
        .bind(keep_session)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn purge_expired_credentials(&self, before: DateTime<Utc>) -> Result<u64, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let tokens = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        let codes = sqlx::query("DELETE FROM verification_codes WHERE expires_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        tx.commit().await.map_err(map_err)?;
        Ok(tokens + codes)
    }

    async fn purge_unverified_users(&self, before: DateTime<Utc>) -> Result<u64, DbError> {
        let purged = sqlx::query("DELETE FROM users WHERE verified_at IS NULL AND created_at < $1")
            .bind(before)
            .execute(self.writer())
            .await
            .map_err(map_err)?
            .rows_affected();
        Ok(purged)
    }
}
