use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::ApplicationStatus;
use rushline_domain::raffle::Seed;
use rushline_store::{
    APPLICATION_STATUS_CHANGED, ApplicationFilter, ApplicationTransition, CommitOutcome, DbError,
    NewApplication, RaffleKind, TRIAL_NOT_SCHEDULED, Trial, TrialApplication, TrialCounts,
    TrialFilter, TrialStore, trial_pool_key,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::claims::give_back;
use super::jobs::insert_jobs;
use super::raffles::{RAFFLE_COLUMNS, insert_raffle, raffle_from_row};
use super::{
    Db, DbConnection, DbRow, SqlStore, conflict_or_missing, delete_scheduled, finds_any, map_err,
    parse_column, push_one_of, push_opening, push_window,
};

const TRIAL_COLUMNS: &str = "id, product_id, seller_id, title, description, slots, opens_at, \
                             closes_at, review_due_days, allocation, paused_at, created_at, \
                             updated_at";
/// The trials and, for a raffle trial, its raffle's public columns.
const TRIAL_FROM: &str = "trials LEFT JOIN raffles ON raffles.subject_id = trials.id";
const APPLICATION_SELECT: &str = "SELECT a.id, a.trial_id, a.buyer_id, u.name AS buyer_name, \
     u.email AS buyer_email, a.status, a.motivation, c.seq, a.review_due_at, a.applied_at, \
     a.status_changed_at, r.id AS review_id FROM trial_applications a \
     JOIN users u ON u.id = a.buyer_id LEFT JOIN claims c ON c.id = a.claim_id \
     LEFT JOIN reviews r ON r.application_id = a.id";

fn trial_from_row(row: &DbRow) -> Result<Trial, DbError> {
    Ok(Trial {
        id: row.try_get("id").map_err(map_err)?,
        product_id: row.try_get("product_id").map_err(map_err)?,
        seller_id: row.try_get("seller_id").map_err(map_err)?,
        title: row.try_get("title").map_err(map_err)?,
        description: row.try_get("description").map_err(map_err)?,
        slots: row.try_get("slots").map_err(map_err)?,
        opens_at: row.try_get("opens_at").map_err(map_err)?,
        closes_at: row.try_get("closes_at").map_err(map_err)?,
        review_due_days: row.try_get("review_due_days").map_err(map_err)?,
        allocation: parse_column(row, "allocation")?,
        raffle: raffle_from_row(row)?,
        paused_at: row.try_get("paused_at").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

fn application_from_row(row: &DbRow) -> Result<TrialApplication, DbError> {
    Ok(TrialApplication {
        id: row.try_get("id").map_err(map_err)?,
        trial_id: row.try_get("trial_id").map_err(map_err)?,
        buyer_id: row.try_get("buyer_id").map_err(map_err)?,
        buyer_name: row.try_get("buyer_name").map_err(map_err)?,
        buyer_email: row.try_get("buyer_email").map_err(map_err)?,
        status: parse_column(row, "status")?,
        motivation: row.try_get("motivation").map_err(map_err)?,
        seq: row.try_get("seq").map_err(map_err)?,
        review_due_at: row.try_get("review_due_at").map_err(map_err)?,
        applied_at: row.try_get("applied_at").map_err(map_err)?,
        status_changed_at: row.try_get("status_changed_at").map_err(map_err)?,
        review_id: row.try_get("review_id").map_err(map_err)?,
    })
}

async fn application_on(conn: &mut DbConnection, id: Uuid) -> Result<TrialApplication, DbError> {
    let row = sqlx::query(&format!("{APPLICATION_SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(map_err)?;
    application_from_row(&row)
}

/// Whether one of `applications` is recorded already: a replayed application, which the group
/// commit answers with the first (checked before their claims, which share their ids, go in).
pub(crate) async fn applications_exist(
    conn: &mut DbConnection,
    applications: &[&NewApplication],
) -> Result<bool, DbError> {
    if applications.is_empty() {
        return Ok(false);
    }
    let ids: Vec<Uuid> = applications.iter().map(|a| a.id).collect();
    let mut query = QueryBuilder::<Db>::new("SELECT 1 FROM trial_applications WHERE ");
    push_one_of(&mut query, "id", &ids);
    query.push(" LIMIT 1");
    finds_any(conn, query).await
}

/// Records `applications` as selected, once their claims are in, with the jobs that tell their
/// testers; the refusal the transaction must be rolled back for, if any: a paused trial, an
/// applicant barred for an overdue review, or a second application of one buyer to one trial.
pub(crate) async fn insert_applications(
    conn: &mut DbConnection,
    applications: &[&NewApplication],
) -> Result<Option<CommitOutcome>, DbError> {
    if applications.is_empty() {
        return Ok(None);
    }
    // After the pool's row lock the batch took: a pause committed before it is seen here, and
    // one that waits for the lock commits after this batch.
    let trials: Vec<Uuid> = applications.iter().map(|a| a.trial_id).collect();
    let mut paused =
        QueryBuilder::<Db>::new("SELECT 1 FROM trials WHERE paused_at IS NOT NULL AND ");
    push_one_of(&mut paused, "id", &trials);
    paused.push(" LIMIT 1");
    if finds_any(conn, paused).await? {
        return Ok(Some(CommitOutcome::TrialPaused));
    }

    let mut barred = QueryBuilder::<Db>::new("WITH batch (buyer_id, since) AS (");
    barred.push_values(applications, |mut row, application| {
        row.push_bind(application.buyer_id)
            .push_bind(application.barred_if_overdue_after);
    });
    barred.push(
        ") SELECT 1 FROM batch b WHERE EXISTS (SELECT 1 FROM trial_applications a \
         WHERE a.buyer_id = b.buyer_id AND a.status = 'review_overdue' AND a.review_due_at > b.since) \
         LIMIT 1",
    );
    if finds_any(conn, barred).await? {
        return Ok(Some(CommitOutcome::TrialBarred));
    }

    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO trial_applications (id, trial_id, buyer_id, status, motivation, claim_id, \
         review_due_at, applied_at, status_changed_at) ",
    );
    insert.push_values(applications, |mut row, application| {
        row.push_bind(application.id)
            .push_bind(application.trial_id)
            .push_bind(application.buyer_id)
            .push_bind(ApplicationStatus::Selected.as_str())
            .push_bind(&application.motivation)
            .push_bind(application.claim.id)
            .push_bind(application.review_due_at)
            .push_bind(application.applied_at)
            .push_bind(application.applied_at);
    });
    // Replays were caught before the claims: a conflict here is the buyer's earlier
    // application to the trial, cancelled (its claim released, so the per-user check passed).
    insert.push(" ON CONFLICT DO NOTHING");
    let inserted = insert
        .build()
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
    if inserted < applications.len() as u64 {
        return Ok(Some(CommitOutcome::LimitReached));
    }
    let jobs: Vec<_> = applications.iter().flat_map(|a| &a.jobs).collect();
    let at = applications[0].applied_at;
    insert_jobs(&mut *conn, &jobs, at).await?;
    Ok(None)
}

#[async_trait]
impl TrialStore for SqlStore {
    async fn create_trial(&self, trial: &Trial, seed: Option<&Seed>) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        sqlx::query(&format!(
            "INSERT INTO trials ({TRIAL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(trial.id)
        .bind(trial.product_id)
        .bind(trial.seller_id)
        .bind(&trial.title)
        .bind(&trial.description)
        .bind(trial.slots)
        .bind(trial.opens_at)
        .bind(trial.closes_at)
        .bind(trial.review_due_days)
        .bind(trial.allocation.as_str())
        .bind(trial.paused_at)
        .bind(trial.created_at)
        .bind(trial.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let (Some(raffle), Some(seed)) = (&trial.raffle, seed) {
            insert_raffle(&mut tx, trial.id, RaffleKind::Trial, raffle, seed).await?;
        }
        // One slot per buyer: the gate's per-user limit is the "one application each".
        super::claims::insert_pool(&mut tx, trial.pool_key(), trial.slots, 1).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn trial(&self, id: Uuid) -> Result<Trial, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {TRIAL_COLUMNS}, {RAFFLE_COLUMNS} FROM {TRIAL_FROM} WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        trial_from_row(&row)
    }

    async fn list_trials(&self, filter: &TrialFilter) -> Result<Vec<Trial>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {TRIAL_COLUMNS}, {RAFFLE_COLUMNS} FROM {TRIAL_FROM} WHERE 1 = 1"
        ));
        if let Some(seller) = filter.seller_id {
            query.push(" AND seller_id = ").push_bind(seller);
        }
        if let Some(product) = filter.product_id {
            query.push(" AND product_id = ").push_bind(product);
        }
        push_window(&mut query, filter.window, "opens_at", "closes_at");
        push_opening(&mut query, filter.opening);
        if let Some((opens_at, id)) = filter.after {
            query.push(" AND (opens_at > ").push_bind(opens_at);
            query.push(" OR (opens_at = ").push_bind(opens_at);
            query.push(" AND id > ").push_bind(id).push("))");
        }
        query
            .push(" ORDER BY opens_at, id LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(trial_from_row).collect()
    }

    async fn update_trial(&self, trial: &Trial, now: DateTime<Utc>) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let updated = sqlx::query(
            "UPDATE trials SET title = $2, description = $3, slots = $4, opens_at = $5, \
             closes_at = $6, review_due_days = $7, updated_at = $8 WHERE id = $1 AND opens_at > $9",
        )
        .bind(trial.id)
        .bind(&trial.title)
        .bind(&trial.description)
        .bind(trial.slots)
        .bind(trial.opens_at)
        .bind(trial.closes_at)
        .bind(trial.review_due_days)
        .bind(trial.updated_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if updated == 0 {
            return Err(
                conflict_or_missing(&mut tx, "trials", trial.id, TRIAL_NOT_SCHEDULED).await,
            );
        }
        sqlx::query("UPDATE pools SET total = $2 WHERE key = $1")
            .bind(trial.pool_key())
            .bind(trial.slots)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // A raffle trial's entries close with its window.
        sqlx::query("UPDATE raffles SET entries_close_at = $2 WHERE subject_id = $1")
            .bind(trial.id)
            .bind(trial.closes_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_trial(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError> {
        delete_scheduled(
            self,
            "trials",
            id,
            trial_pool_key(id),
            now,
            TRIAL_NOT_SCHEDULED,
        )
        .await
    }

    async fn set_trial_paused(
        &self,
        id: Uuid,
        paused_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Trial, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        // The pool's row first, as the group commit takes it: a batch that holds it commits
        // before the pause, and every later one sees the pause (see `insert_applications`).
        sqlx::query("UPDATE pools SET total = total WHERE key = $1")
            .bind(trial_pool_key(id))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let updated =
            sqlx::query("UPDATE trials SET paused_at = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(paused_at)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        if updated == 0 {
            return Err(DbError::NotFound);
        }
        let row = sqlx::query(&format!(
            "SELECT {TRIAL_COLUMNS}, {RAFFLE_COLUMNS} FROM {TRIAL_FROM} WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let trial = trial_from_row(&row)?;
        tx.commit().await.map_err(map_err)?;
        Ok(trial)
    }

    async fn application(&self, id: Uuid) -> Result<TrialApplication, DbError> {
        let mut conn = self.reader().acquire().await.map_err(map_err)?;
        application_on(&mut conn, id).await
    }

    async fn list_applications(
        &self,
        filter: &ApplicationFilter,
    ) -> Result<Vec<TrialApplication>, DbError> {
        let mut query = QueryBuilder::<Db>::new(format!("{APPLICATION_SELECT} WHERE 1 = 1"));
        if let Some(trial) = filter.trial_id {
            query.push(" AND a.trial_id = ").push_bind(trial);
        }
        if let Some(buyer) = filter.buyer_id {
            query.push(" AND a.buyer_id = ").push_bind(buyer);
        }
        if let Some(status) = filter.status {
            query.push(" AND a.status = ").push_bind(status.as_str());
        }
        if let Some((applied_at, id)) = filter.before {
            query.push(" AND (a.applied_at < ").push_bind(applied_at);
            query.push(" OR (a.applied_at = ").push_bind(applied_at);
            query.push(" AND a.id < ").push_bind(id).push("))");
        }
        query
            .push(" ORDER BY a.applied_at DESC, a.id DESC LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(application_from_row).collect()
    }

    async fn transition_application(
        &self,
        change: &ApplicationTransition,
    ) -> Result<TrialApplication, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let updated = sqlx::query(
            "UPDATE trial_applications SET status = $2, status_changed_at = $3 \
             WHERE id = $1 AND status = $4",
        )
        .bind(change.id)
        .bind(change.to.as_str())
        .bind(change.at)
        .bind(change.from.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if updated == 0 {
            return Err(conflict_or_missing(
                &mut tx,
                "trial_applications",
                change.id,
                APPLICATION_STATUS_CHANGED,
            )
            .await);
        }
        if change.from.holds_slot() && !change.to.holds_slot() {
            let released: Vec<(String, i32)> = sqlx::query_as(
                "UPDATE claims SET released_at = $2 WHERE released_at IS NULL \
                 AND id = (SELECT claim_id FROM trial_applications WHERE id = $1) \
                 RETURNING pool_key, qty",
            )
            .bind(change.id)
            .bind(change.at)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            give_back(&mut tx, released).await?;
        }
        let jobs: Vec<_> = change.jobs.iter().collect();
        insert_jobs(&mut tx, &jobs, change.at).await?;
        let application = application_on(&mut tx, change.id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(application)
    }

    async fn applications_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TrialApplication>, DbError> {
        let rows = sqlx::query(&format!(
            "{APPLICATION_SELECT} WHERE a.status = $1 AND a.review_due_at <= $2 \
             ORDER BY a.review_due_at, a.id LIMIT $3"
        ))
        .bind(ApplicationStatus::Selected.as_str())
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(application_from_row).collect()
    }

    async fn trial_applicants(&self, id: Uuid) -> Result<i64, DbError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM trial_applications WHERE trial_id = $1")
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)
    }

    async fn trial_counts(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, TrialCounts>, DbError> {
        let mut counts: HashMap<Uuid, TrialCounts> =
            ids.iter().map(|id| (*id, TrialCounts::default())).collect();
        if ids.is_empty() {
            return Ok(counts);
        }
        let mut query = QueryBuilder::<Db>::new(
            "SELECT trial_id, status, COUNT(*) FROM trial_applications WHERE ",
        );
        push_one_of(&mut query, "trial_id", ids);
        let rows: Vec<(Uuid, String, i64)> = query
            .push(" GROUP BY trial_id, status")
            .build_query_as()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        for (trial, status, n) in rows {
            let status: ApplicationStatus = status
                .parse()
                .map_err(|e: String| DbError::Other(format!("column status: {e}")))?;
            let of = counts.entry(trial).or_default();
            of.applicants += n;
            if status.holds_slot() {
                of.selected += n;
            }
        }
        let mut query = QueryBuilder::<Db>::new(
            "SELECT trial_id, MAX(applied_at) FROM trial_applications WHERE ",
        );
        push_one_of(&mut query, "trial_id", ids);
        let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = query
            .push(
                " AND status IN ('selected', 'review_submitted', 'review_overdue') \
                 GROUP BY trial_id",
            )
            .build_query_as()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        for (trial, last) in rows {
            counts.entry(trial).or_default().last_selected_at = last;
        }
        // A trial has at most 100,000 testers: their reviews are counted when asked.
        let mut query = QueryBuilder::<Db>::new(
            "SELECT a.trial_id, COUNT(*), \
             AVG(CASE WHEN r.hidden_at IS NULL THEN CAST(r.rating AS DOUBLE PRECISION) END) \
             FROM reviews r JOIN trial_applications a ON a.id = r.application_id WHERE ",
        );
        push_one_of(&mut query, "a.trial_id", ids);
        let rows: Vec<(Uuid, i64, Option<f64>)> = query
            .push(" GROUP BY a.trial_id")
            .build_query_as()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        for (trial, reviews, average_rating) in rows {
            let of = counts.entry(trial).or_default();
            of.reviews = reviews;
            of.average_rating = average_rating;
        }
        Ok(counts)
    }
}
