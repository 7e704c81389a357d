use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_domain::raffle::{Place, PlaceOutcome, Seed, seed_commitment};
use rushline_store::{
    CommitOutcome, DbError, Entry, NewEntry, NewJob, RaffleKind, RaffleSettings, RaffleStore,
    RaffleSweep, Swept,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::jobs::insert_job;
use super::{Db, DbConnection, DbRow, FOR_KEY_SHARE, FOR_UPDATE, SqlStore, map_err, push_one_of};

/// A raffle's public columns, for the views of what it allocates (never the seed).
pub(crate) const RAFFLE_COLUMNS: &str = "entries_close_at, claim_window_minutes, seed_commitment, \
                                         drawn_at, entrants, exhausted_at";

pub(crate) fn raffle_from_row(row: &DbRow) -> Result<Option<RaffleSettings>, DbError> {
    let Some(entries_close_at) = row.try_get("entries_close_at").map_err(map_err)? else {
        return Ok(None);
    };
    Ok(Some(RaffleSettings {
        entries_close_at,
        claim_window_minutes: row.try_get("claim_window_minutes").map_err(map_err)?,
        seed_commitment: row.try_get("seed_commitment").map_err(map_err)?,
        drawn_at: row.try_get("drawn_at").map_err(map_err)?,
        entrants: row.try_get("entrants").map_err(map_err)?,
        exhausted_at: row.try_get("exhausted_at").map_err(map_err)?,
    }))
}

/// Creates the raffle of `subject_id` in the transaction that creates what it allocates.
pub(crate) async fn insert_raffle(
    conn: &mut DbConnection,
    subject_id: Uuid,
    kind: RaffleKind,
    raffle: &RaffleSettings,
    seed: &Seed,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO raffles (subject_id, kind, entries_close_at, claim_window_minutes, \
         seed, seed_commitment) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(subject_id)
    .bind(kind.as_str())
    .bind(raffle.entries_close_at)
    .bind(raffle.claim_window_minutes)
    .bind(seed.as_slice())
    .bind(seed_commitment(seed))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Rows of the draw's order inserted per statement: within both databases' bound parameters.
const DRAW_CHUNK: usize = 5_000;

const ENTRY_COLUMNS: &str = "e.id, e.raffle_id, e.user_id, e.idempotency_key, e.motivation, \
                             e.entered_at, p.position, p.offered_at, p.claim_until, p.outcome";
const ENTRY_FROM: &str = "raffle_entries e LEFT JOIN raffle_places p ON p.entry_id = e.id";

fn entry_from_row(row: &DbRow) -> Result<Entry, DbError> {
    let outcome: Option<String> = row.try_get("outcome").map_err(map_err)?;
    Ok(Entry {
        id: row.try_get("id").map_err(map_err)?,
        raffle_id: row.try_get("raffle_id").map_err(map_err)?,
        user_id: row.try_get("user_id").map_err(map_err)?,
        idempotency_key: row.try_get("idempotency_key").map_err(map_err)?,
        motivation: row.try_get("motivation").map_err(map_err)?,
        entered_at: row.try_get("entered_at").map_err(map_err)?,
        position: row.try_get("position").map_err(map_err)?,
        place: Place {
            offered_at: row.try_get("offered_at").map_err(map_err)?,
            claim_until: row.try_get("claim_until").map_err(map_err)?,
            outcome: outcome
                .map(|text| text.parse().map_err(DbError::Other))
                .transpose()?,
        },
    })
}

/// Writes the batch's raffle entries in the group commit's transaction, once their raffles are
/// still open to entries (on PostgreSQL, holding each raffle's row against the draw); the
/// refusal of the first entry that cannot be written otherwise.
pub(crate) async fn insert_entries(
    conn: &mut DbConnection,
    entries: &[&NewEntry],
) -> Result<Option<CommitOutcome>, DbError> {
    if entries.is_empty() {
        return Ok(None);
    }
    let mut raffles: Vec<Uuid> = entries.iter().map(|entry| entry.raffle_id).collect();
    raffles.sort();
    raffles.dedup();
    let mut open = QueryBuilder::<Db>::new(
        "SELECT subject_id FROM raffles WHERE entries_closed_at IS NULL AND ",
    );
    push_one_of(&mut open, "subject_id", &raffles);
    open.push(" ORDER BY subject_id").push(FOR_KEY_SHARE);
    let open = open.build().fetch_all(&mut *conn).await.map_err(map_err)?;
    if open.len() != raffles.len() {
        return Ok(Some(CommitOutcome::EntriesClosed));
    }
    let mut insert = QueryBuilder::<Db>::new(
        "INSERT INTO raffle_entries (id, raffle_id, user_id, idempotency_key, motivation, \
         entered_at) ",
    );
    insert.push_values(entries, |mut row, entry| {
        row.push_bind(entry.id)
            .push_bind(entry.raffle_id)
            .push_bind(entry.user_id)
            .push_bind(&entry.idempotency_key)
            .push_bind(&entry.motivation)
            .push_bind(entry.entered_at);
    });
    insert.push(" ON CONFLICT DO NOTHING");
    let inserted = insert
        .build()
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
    if inserted as usize == entries.len() {
        return Ok(None);
    }
    // One of them is there already: under its own id (a retry), or the buyer's other entry.
    let ids: Vec<Uuid> = entries.iter().map(|entry| entry.id).collect();
    let mut existing = QueryBuilder::<Db>::new("SELECT 1 FROM raffle_entries WHERE ");
    push_one_of(&mut existing, "id", &ids);
    existing.push(" LIMIT 1");
    Ok(Some(if super::finds_any(conn, existing).await? {
        CommitOutcome::Duplicate
    } else {
        CommitOutcome::AlreadyEntered
    }))
}

#[async_trait]
impl RaffleStore for SqlStore {
    async fn raffle_entry(&self, raffle_id: Uuid, user_id: Uuid) -> Result<Entry, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.raffle_id = $1 AND e.user_id = $2"
        ))
        .bind(raffle_id)
        .bind(user_id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        entry_from_row(&row)
    }

    async fn entry(&self, id: Uuid) -> Result<Entry, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = $1"
        ))
        .bind(id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        entry_from_row(&row)
    }

    async fn raffles_due(&self, now: DateTime<Utc>) -> Result<Vec<(Uuid, RaffleKind)>, DbError> {
        let rows = sqlx::query(
            "SELECT subject_id, kind FROM raffles WHERE drawn_at IS NULL AND entries_close_at <= $1 \
             UNION SELECT subject_id, kind FROM raffles WHERE drawn_at IS NOT NULL AND exhausted_at IS NULL",
        )
        .bind(now)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("subject_id").map_err(map_err)?,
                    super::parse_column(row, "kind")?,
                ))
            })
            .collect()
    }

    async fn close_entries(&self, id: Uuid, now: DateTime<Utc>) -> Result<Seed, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let seed: Vec<u8> = sqlx::query_scalar(&format!(
            "SELECT seed FROM raffles WHERE subject_id = $1{FOR_UPDATE}"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "UPDATE raffles SET entries_closed_at = $2 \
             WHERE subject_id = $1 AND entries_closed_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        seed.try_into()
            .map_err(|_| DbError::Other("a raffle's seed is not 32 bytes".into()))
    }

    async fn raffle_entrants(&self, id: Uuid) -> Result<Vec<(Uuid, Uuid)>, DbError> {
        sqlx::query_as("SELECT id, user_id FROM raffle_entries WHERE raffle_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.reader())
            .await
            .map_err(map_err)
    }

    async fn record_draw(
        &self,
        id: Uuid,
        order: &[(Uuid, Uuid)],
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let drawn = sqlx::query(
            "UPDATE raffles SET drawn_at = $2, entrants = $3 \
             WHERE subject_id = $1 AND drawn_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(i64::try_from(order.len()).map_err(|e| DbError::Other(e.to_string()))?)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if drawn == 0 {
            return tx.rollback().await.map_err(map_err);
        }
        for (chunk, places) in order.chunks(DRAW_CHUNK).enumerate() {
            let first = (chunk * DRAW_CHUNK) as i64;
            let mut insert = QueryBuilder::<Db>::new(
                "INSERT INTO raffle_places (raffle_id, position, entry_id, user_id) ",
            );
            insert.push_values(places.iter().enumerate(), |mut row, (i, (entry, user))| {
                row.push_bind(id)
                    .push_bind(first + i as i64)
                    .push_bind(*entry)
                    .push_bind(*user);
            });
            insert.build().execute(&mut *tx).await.map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn revealed_seed(&self, id: Uuid) -> Result<Option<Seed>, DbError> {
        let row = sqlx::query("SELECT seed, drawn_at FROM raffles WHERE subject_id = $1")
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        let drawn: Option<DateTime<Utc>> = row.try_get("drawn_at").map_err(map_err)?;
        if drawn.is_none() {
            return Ok(None);
        }
        let seed: Vec<u8> = row.try_get("seed").map_err(map_err)?;
        seed.try_into()
            .map(Some)
            .map_err(|_| DbError::Other("a raffle's seed is not 32 bytes".into()))
    }

    async fn entrants_page(
        &self,
        id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Uuid>, DbError> {
        let mut query = QueryBuilder::<Db>::new("SELECT id FROM raffle_entries WHERE raffle_id = ");
        query.push_bind(id);
        if let Some(after) = after {
            query.push(" AND id > ").push_bind(after);
        }
        query
            .push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(limit));
        query
            .build_query_scalar::<Uuid>()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)
    }

    async fn draw_page(&self, id: Uuid, from: i64, limit: u32) -> Result<Vec<Uuid>, DbError> {
        sqlx::query_scalar(
            "SELECT entry_id FROM raffle_places WHERE raffle_id = $1 AND position >= $2 \
             ORDER BY position LIMIT $3",
        )
        .bind(id)
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(map_err)
    }

    async fn sweep_raffle(&self, sweep: &RaffleSweep) -> Result<Swept, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        // Serialised with other sweeps of this raffle on other nodes.
        let (total, held): (i64, i64) = sqlx::query_as(&format!(
            "SELECT total, held FROM pools WHERE key = $1{FOR_UPDATE}"
        ))
        .bind(&sweep.pool_key)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let holding = "EXISTS (SELECT 1 FROM claims c WHERE c.pool_key = $2 \
                       AND c.user_id = raffle_places.user_id AND c.released_at IS NULL)";
        let released = "EXISTS (SELECT 1 FROM claims c WHERE c.pool_key = $2 \
                        AND c.user_id = raffle_places.user_id AND c.released_at IS NOT NULL)";
        // A winner holding units bought; one holding none bought and cancelled, or let the
        // order or the window lapse: their place rolls on.
        sqlx::query(&format!(
            "UPDATE raffle_places SET outcome = CASE WHEN {holding} THEN 'purchased' ELSE 'expired' END \
             WHERE raffle_id = $1 AND offered_at IS NOT NULL AND outcome IS NULL \
             AND ({holding} OR {released} OR claim_until <= $3)"
        ))
        .bind(sweep.raffle_id)
        .bind(&sweep.pool_key)
        .bind(sweep.now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(&format!(
            "UPDATE raffle_places SET outcome = 'expired' \
             WHERE raffle_id = $1 AND outcome = 'purchased' AND NOT {holding}"
        ))
        .bind(sweep.raffle_id)
        .bind(&sweep.pool_key)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM raffle_places WHERE raffle_id = $1 \
             AND offered_at IS NOT NULL AND outcome IS NULL AND claim_until > $2",
        )
        .bind(sweep.raffle_id)
        .bind(sweep.now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let free = total - held - open * sweep.per_user_limit;
        let offering = if sweep.now < sweep.offers_end_at {
            rushline_domain::raffle::places(free, sweep.per_user_limit)
        } else {
            0
        };
        let offered = if offering > 0 {
            sqlx::query(
                "UPDATE raffle_places SET offered_at = $2, claim_until = $3 \
                 WHERE raffle_id = $1 AND position IN (SELECT position FROM raffle_places \
                 WHERE raffle_id = $1 AND offered_at IS NULL ORDER BY position LIMIT $4)",
            )
            .bind(sweep.raffle_id)
            .bind(sweep.now)
            .bind(sweep.claim_until)
            .bind(offering)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
        } else {
            0
        };
        if offered > 0 {
            insert_job(&mut *tx, &sweep.offers, sweep.now).await?;
        }
        // Nothing left to offer once the window for offers has ended, or once every place was
        // offered and none is still open.
        // The first match ends it: a count would read every place of a million-entry raffle
        // every second.
        let waiting = sqlx::query(
            "SELECT 1 FROM raffle_places WHERE raffle_id = $1 AND (offered_at IS NULL \
             OR (outcome IS NULL AND claim_until > $2) OR outcome = 'purchased') LIMIT 1",
        )
        .bind(sweep.raffle_id)
        .bind(sweep.now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?
        .is_some();
        let exhausted = sweep.now >= sweep.offers_end_at || !waiting;
        if exhausted {
            sqlx::query("UPDATE raffles SET exhausted_at = $2 WHERE subject_id = $1")
                .bind(sweep.raffle_id)
                .bind(sweep.now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_job(&mut *tx, &sweep.lost, sweep.now).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Swept { offered, exhausted })
    }

    async fn next_places(&self, id: Uuid, limit: u32) -> Result<Vec<Entry>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM raffle_places p JOIN raffle_entries e ON e.id = p.entry_id \
             WHERE p.raffle_id = $1 AND p.offered_at IS NULL ORDER BY p.position LIMIT $2"
        ))
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn settle_place(
        &self,
        entry_id: Uuid,
        at: DateTime<Utc>,
        outcome: PlaceOutcome,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE raffle_places SET offered_at = COALESCE(offered_at, $2), outcome = $3 \
             WHERE entry_id = $1",
        )
        .bind(entry_id)
        .bind(at)
        .bind(outcome.as_str())
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn exhaust_raffle(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        lost: &NewJob,
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let exhausted = sqlx::query(
            "UPDATE raffles SET exhausted_at = $2 WHERE subject_id = $1 AND exhausted_at IS NULL",
        )
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if exhausted > 0 {
            insert_job(&mut *tx, lost, at).await?;
            sqlx::query(
                "INSERT INTO trial_applications (id, trial_id, buyer_id, status, motivation, \
                 applied_at, status_changed_at) \
                 SELECT e.id, e.raffle_id, e.user_id, 'not_selected', e.motivation, e.entered_at, $2 \
                 FROM raffle_entries e JOIN raffles r ON r.subject_id = e.raffle_id \
                 WHERE e.raffle_id = $1 AND r.kind = 'trial' AND NOT EXISTS (\
                 SELECT 1 FROM trial_applications a \
                 WHERE a.trial_id = e.raffle_id AND a.buyer_id = e.user_id)",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }
}
