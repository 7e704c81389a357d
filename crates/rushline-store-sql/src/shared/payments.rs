use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::PaymentStatus;
use rushline_store::{
    DbError, NewJob, Order, OrderStore, OrderTransition, PAYMENT_STATUS_CHANGED, Payment,
    PaymentStore,
};
use sqlx::Row;
use uuid::Uuid;

use super::jobs::{insert_job, insert_jobs};
use super::orders::apply_transition;
use super::{Db, DbRow, SqlStore, map_err, parse_column};

const COLUMNS: &str =
    "id, order_id, provider, amount, status, provider_ref, failure_code, created_at, updated_at";

fn payment_from_row(row: &DbRow) -> Result<Payment, DbError> {
    Ok(Payment {
        id: row.try_get("id").map_err(map_err)?,
        order_id: row.try_get("order_id").map_err(map_err)?,
        provider: row.try_get("provider").map_err(map_err)?,
        amount: row.try_get("amount").map_err(map_err)?,
        status: parse_column(row, "status")?,
        provider_ref: row.try_get("provider_ref").map_err(map_err)?,
        failure_code: row.try_get("failure_code").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

/// Moves a payment from `from` to `to`, or `Conflict { PAYMENT_STATUS_CHANGED }`.
async fn settle<'e, E>(
    executor: E,
    id: Uuid,
    from: PaymentStatus,
    to: PaymentStatus,
    failure_code: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), DbError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let updated = sqlx::query(
        "UPDATE payments SET status = $3, failure_code = COALESCE($4, failure_code), updated_at = $5 \
         WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(failure_code)
    .bind(at)
    .execute(executor)
    .await
    .map_err(map_err)?
    .rows_affected();
    if updated == 0 {
        return Err(DbError::Conflict {
            constraint: PAYMENT_STATUS_CHANGED.to_owned(),
        });
    }
    Ok(())
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn begin_payment(&self, payment: &Payment) -> Result<(), DbError> {
        sqlx::query(&format!(
            "INSERT INTO payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(payment.id)
        .bind(payment.order_id)
        .bind(&payment.provider)
        .bind(payment.amount)
        .bind(payment.status.as_str())
        .bind(&payment.provider_ref)
        .bind(&payment.failure_code)
        .bind(payment.created_at)
        .bind(payment.updated_at)
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn payment(&self, id: Uuid) -> Result<Payment, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        payment_from_row(&row)
    }

    async fn payments_for_order(&self, order_id: Uuid) -> Result<Vec<Payment>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE order_id = $1 ORDER BY created_at, id"
        ))
        .bind(order_id)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(payment_from_row).collect()
    }

    async fn settle_payment(
        &self,
        id: Uuid,
        from: PaymentStatus,
        to: PaymentStatus,
        failure_code: Option<&str>,
        at: DateTime<Utc>,
        jobs: &[NewJob],
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        settle(&mut *tx, id, from, to, failure_code, at).await?;
        insert_jobs(&mut tx, jobs, at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn approve_payment(&self, id: Uuid, change: &OrderTransition) -> Result<Order, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        settle(
            &mut *tx,
            id,
            PaymentStatus::Pending,
            PaymentStatus::Approved,
            None,
            change.at,
        )
        .await?;
        apply_transition(&mut tx, change).await?;
        tx.commit().await.map_err(map_err)?;
        self.order(change.order_id).await
    }

    async fn refund_later(
        &self,
        id: Uuid,
        refund: &NewJob,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        settle(
            &mut *tx,
            id,
            PaymentStatus::Pending,
            PaymentStatus::Refunding,
            None,
            at,
        )
        .await?;
        insert_job(&mut *tx, refund, at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn stale_payments(&self, before: DateTime<Utc>) -> Result<Vec<Uuid>, DbError> {
        sqlx::query_scalar(
            "SELECT id FROM payments WHERE status = 'pending' AND created_at < $1 ORDER BY created_at",
        )
        .bind(before)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)
    }
}
