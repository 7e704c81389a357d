use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use rushline_domain::{ApplicationStatus, RatingHistogram, ReviewSource};
use rushline_store::{
    DbError, NewReview, Review, ReviewQuery, ReviewRight, ReviewSort, ReviewStore,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::jobs::insert_jobs;
use super::{Db, DbConnection, DbRow, FOR_UPDATE, SqlStore, map_err, parse_column, push_one_of};

const REVIEW_SELECT: &str = "SELECT r.id, r.product_id, r.buyer_id, u.name AS buyer_name, \
     r.source, r.application_id, r.rating, r.title, r.text, r.hidden_at, r.created_at, \
     r.updated_at FROM reviews r JOIN users u ON u.id = r.buyer_id";
const STARS: &str = "stars_1, stars_2, stars_3, stars_4, stars_5";

fn review_from_row(row: &DbRow) -> Result<Review, DbError> {
    Ok(Review {
        id: row.try_get("id").map_err(map_err)?,
        product_id: row.try_get("product_id").map_err(map_err)?,
        buyer_id: row.try_get("buyer_id").map_err(map_err)?,
        buyer_name: row.try_get("buyer_name").map_err(map_err)?,
        source: parse_column(row, "source")?,
        application_id: row.try_get("application_id").map_err(map_err)?,
        rating: row.try_get("rating").map_err(map_err)?,
        title: row.try_get("title").map_err(map_err)?,
        text: row.try_get("text").map_err(map_err)?,
        hidden_at: row.try_get("hidden_at").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

fn histogram_from_row(row: &DbRow) -> Result<RatingHistogram, DbError> {
    let mut stars = [0; 5];
    for (i, n) in stars.iter_mut().enumerate() {
        *n = row.try_get(i).map_err(map_err)?;
    }
    Ok(RatingHistogram { stars })
}

async fn review_on(conn: &mut DbConnection, id: Uuid) -> Result<Review, DbError> {
    let row = sqlx::query(&format!("{REVIEW_SELECT} WHERE r.id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(map_err)?;
    review_from_row(&row)
}

/// Counts one review of `rating` stars more (`delta` 1) or less (-1) in `product`'s statistics,
/// inside the transaction of the write that causes it.
async fn count(
    conn: &mut DbConnection,
    product: Uuid,
    rating: i32,
    delta: i64,
) -> Result<(), DbError> {
    // The row first, empty: a CHECK holds for the row an upsert proposes, so the deltas
    // cannot ride on the insert.
    sqlx::query(&format!(
        "INSERT INTO review_stats (product_id, review_count, rating_sum, {STARS}) \
         VALUES ($1, 0, 0, 0, 0, 0, 0, 0) ON CONFLICT (product_id) DO NOTHING"
    ))
    .bind(product)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    let stars = format!("stars_{rating}");
    if !(1..=5).contains(&rating) {
        return Err(DbError::Other(format!("a rating of {rating} stars")));
    }
    sqlx::query(&format!(
        "UPDATE review_stats SET review_count = review_count + $2, \
         rating_sum = rating_sum + $3, {stars} = {stars} + $2 WHERE product_id = $1"
    ))
    .bind(product)
    .bind(delta)
    .bind(delta * i64::from(rating))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// The review `id`, locked for the rest of the transaction: what a change must uncount.
async fn lock_review(conn: &mut DbConnection, id: Uuid) -> Result<Review, DbError> {
    sqlx::query(formatcp!("SELECT 1 FROM reviews WHERE id = $1{FOR_UPDATE}"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    review_on(conn, id).await
}

/// The review statistics of `products`, by product; a product without reviews has no entry.
pub(crate) async fn histograms(
    pool: &sqlx::Pool<Db>,
    products: &[Uuid],
) -> Result<HashMap<Uuid, RatingHistogram>, DbError> {
    if products.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = QueryBuilder::<Db>::new(format!(
        "SELECT {STARS}, product_id FROM review_stats WHERE "
    ));
    push_one_of(&mut query, "product_id", products);
    let rows = query.build().fetch_all(pool).await.map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let product: Uuid = row.try_get("product_id").map_err(map_err)?;
            Ok((product, histogram_from_row(row)?))
        })
        .collect()
}

#[async_trait]
impl ReviewStore for SqlStore {
    async fn review_right(
        &self,
        buyer: Uuid,
        product: Uuid,
        delivered_by: DateTime<Utc>,
    ) -> Result<Option<ReviewRight>, DbError> {
        // A tester's review is their trial's first, even if they also bought the product: it is
        // what marks the application reviewed, and without it they would be barred as overdue.
        let tested: Option<Uuid> = sqlx::query_scalar(
            "SELECT a.id FROM trial_applications a JOIN trials t ON t.id = a.trial_id \
             WHERE a.buyer_id = $1 AND t.product_id = $2 \
             AND a.status IN ('selected', 'review_submitted', 'review_overdue') \
             ORDER BY a.applied_at DESC LIMIT 1",
        )
        .bind(buyer)
        .bind(product)
        .fetch_optional(self.reader())
        .await
        .map_err(map_err)?;
        if let Some(id) = tested {
            return Ok(Some(ReviewRight {
                source: ReviewSource::Trial,
                application_id: Some(id),
            }));
        }
        let bought = sqlx::query(
            "SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id \
             WHERE o.buyer_id = $1 AND l.product_id = $2 AND (o.status = 'completed' \
             OR (o.status = 'delivered' AND o.status_changed_at <= $3)) LIMIT 1",
        )
        .bind(buyer)
        .bind(product)
        .bind(delivered_by)
        .fetch_optional(self.reader())
        .await
        .map_err(map_err)?;
        Ok(bought.map(|_| ReviewRight {
            source: ReviewSource::VerifiedPurchase,
            application_id: None,
        }))
    }

    async fn create_review(&self, review: &NewReview) -> Result<Review, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO reviews (id, product_id, buyer_id, source, application_id, rating, title, \
             text, hidden_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $9)",
        )
        .bind(review.id)
        .bind(review.product_id)
        .bind(review.buyer_id)
        .bind(review.right.source.as_str())
        .bind(review.right.application_id)
        .bind(review.rating)
        .bind(&review.title)
        .bind(&review.text)
        .bind(review.at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        count(&mut tx, review.product_id, review.rating, 1).await?;
        if let Some(application) = review.right.application_id {
            // Only from `selected`: a late review leaves the application overdue, and its bar.
            sqlx::query(
                "UPDATE trial_applications SET status = $2, status_changed_at = $3 \
                 WHERE id = $1 AND status = $4",
            )
            .bind(application)
            .bind(ApplicationStatus::ReviewSubmitted.as_str())
            .bind(review.at)
            .bind(ApplicationStatus::Selected.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let jobs: Vec<_> = review.jobs.iter().collect();
        insert_jobs(&mut tx, &jobs, review.at).await?;
        let created = review_on(&mut tx, review.id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(created)
    }

    async fn review(&self, id: Uuid) -> Result<Review, DbError> {
        let mut conn = self.reader().acquire().await.map_err(map_err)?;
        review_on(&mut conn, id).await
    }

    async fn update_review(
        &self,
        id: Uuid,
        rating: i32,
        title: Option<&str>,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<Review, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let before = lock_review(&mut tx, id).await?;
        sqlx::query(
            "UPDATE reviews SET rating = $2, title = $3, text = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(rating)
        .bind(title)
        .bind(text)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if before.hidden_at.is_none() && before.rating != rating {
            count(&mut tx, before.product_id, before.rating, -1).await?;
            count(&mut tx, before.product_id, rating, 1).await?;
        }
        let after = review_on(&mut tx, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(after)
    }

    async fn delete_review(&self, id: Uuid) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let before = lock_review(&mut tx, id).await?;
        sqlx::query("DELETE FROM reviews WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if before.hidden_at.is_none() {
            count(&mut tx, before.product_id, before.rating, -1).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn hide_review(&self, id: Uuid, at: DateTime<Utc>) -> Result<Review, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let before = lock_review(&mut tx, id).await?;
        if before.hidden_at.is_none() {
            sqlx::query("UPDATE reviews SET hidden_at = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            count(&mut tx, before.product_id, before.rating, -1).await?;
        }
        let after = review_on(&mut tx, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(after)
    }

    async fn list_reviews(&self, query: &ReviewQuery) -> Result<Vec<Review>, DbError> {
        let mut sql = QueryBuilder::<Db>::new(format!(
            "{REVIEW_SELECT} WHERE r.hidden_at IS NULL AND r.product_id = "
        ));
        sql.push_bind(query.product_id);
        if let Some(rating) = query.rating {
            sql.push(" AND r.rating = ").push_bind(rating);
        }
        if let Some((rating, created_at, id)) = query.after {
            // Ties on the rating (and on the time) go newest first, then by id, in every sort.
            let newer = |sql: &mut QueryBuilder<'_, Db>| {
                sql.push("(r.created_at < ").push_bind(created_at);
                sql.push(" OR (r.created_at = ").push_bind(created_at);
                sql.push(" AND r.id < ").push_bind(id).push("))");
            };
            sql.push(" AND ");
            match query.sort {
                ReviewSort::Newest => newer(&mut sql),
                ReviewSort::RatingDesc | ReviewSort::RatingAsc => {
                    let past = if query.sort == ReviewSort::RatingDesc {
                        " < "
                    } else {
                        " > "
                    };
                    sql.push("(r.rating").push(past).push_bind(rating);
                    sql.push(" OR (r.rating = ").push_bind(rating).push(" AND ");
                    newer(&mut sql);
                    sql.push("))");
                }
            }
        }
        sql.push(match query.sort {
            ReviewSort::Newest => " ORDER BY r.created_at DESC, r.id DESC",
            ReviewSort::RatingDesc => " ORDER BY r.rating DESC, r.created_at DESC, r.id DESC",
            ReviewSort::RatingAsc => " ORDER BY r.rating ASC, r.created_at DESC, r.id DESC",
        });
        sql.push(" LIMIT ").push_bind(i64::from(query.limit));
        let rows = sql
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?;
        rows.iter().map(review_from_row).collect()
    }

    async fn review_stats(&self, product: Uuid) -> Result<RatingHistogram, DbError> {
        Ok(histograms(self.reader(), &[product])
            .await?
            .remove(&product)
            .unwrap_or_default())
    }
}
