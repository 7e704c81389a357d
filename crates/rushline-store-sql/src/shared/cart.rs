use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rushline_store::{CartItem, CartStore, DbError};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{Db, DbRow, SqlStore, map_err, push_one_of};

fn item_from_row(row: &DbRow) -> Result<CartItem, DbError> {
    Ok(CartItem {
        product_id: row.try_get("product_id").map_err(map_err)?,
        quantity: row.try_get("quantity").map_err(map_err)?,
        added_at: row.try_get("added_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
    })
}

const RETURNING: &str = "RETURNING product_id, quantity, added_at, updated_at";

#[async_trait]
impl CartStore for SqlStore {
    async fn add_to_cart(
        &self,
        user: Uuid,
        product: Uuid,
        quantity: i32,
        now: DateTime<Utc>,
    ) -> Result<CartItem, DbError> {
        let row = sqlx::query(&format!(
            "INSERT INTO cart_items (user_id, product_id, quantity, added_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity, \
             updated_at = excluded.updated_at {RETURNING}"
        ))
        .bind(user)
        .bind(product)
        .bind(quantity)
        .bind(now)
        .fetch_one(self.writer())
        .await
        .map_err(map_err)?;
        item_from_row(&row)
    }

    async fn set_cart_quantity(
        &self,
        user: Uuid,
        product: Uuid,
        quantity: i32,
        now: DateTime<Utc>,
    ) -> Result<CartItem, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE cart_items SET quantity = $3, updated_at = $4 WHERE user_id = $1 AND product_id = $2 {RETURNING}"
        ))
        .bind(user)
        .bind(product)
        .bind(quantity)
        .bind(now)
        .fetch_one(self.writer())
        .await
        .map_err(map_err)?;
        item_from_row(&row)
    }

    async fn remove_from_cart(&self, user: Uuid, product: Uuid) -> Result<(), DbError> {
        let removed = sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2")
            .bind(user)
            .bind(product)
            .execute(self.writer())
            .await
            .map_err(map_err)?
            .rows_affected();
        if removed == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    async fn cart(&self, user: Uuid) -> Result<Vec<CartItem>, DbError> {
        let rows = sqlx::query(
            "SELECT product_id, quantity, added_at, updated_at FROM cart_items WHERE user_id = $1 \
             ORDER BY added_at, product_id",
        )
        .bind(user)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?;
        rows.iter().map(item_from_row).collect()
    }

    async fn remove_cart_items(&self, user: Uuid, products: &[Uuid]) -> Result<(), DbError> {
        if products.is_empty() {
            return Ok(());
        }
        let mut query = QueryBuilder::<Db>::new("DELETE FROM cart_items WHERE user_id = ");
        query.push_bind(user).push(" AND ");
        push_one_of(&mut query, "product_id", products);
        query
            .build()
            .execute(self.writer())
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
