use async_trait::async_trait;
use rushline_store::{CatalogStore, DbError, Product};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::SqliteStore;
use crate::error::{map_err, parse_column};

const COLUMNS: &str = "id, seller_id, name, description, category, price, stock, status, \
                       created_at, updated_at, deleted_at";

pub(crate) fn product_from_row(row: &SqliteRow) -> Result<Product, DbError> {
    Ok(Product {
        id: row.try_get("id").map_err(map_err)?,
        seller_id: row.try_get("seller_id").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        description: row.try_get("description").map_err(map_err)?,
        category: row.try_get("category").map_err(map_err)?,
        price: row.try_get("price").map_err(map_err)?,
        stock: row.try_get("stock").map_err(map_err)?,
        status: parse_column(row, "status")?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        updated_at: row.try_get("updated_at").map_err(map_err)?,
        deleted_at: row.try_get("deleted_at").map_err(map_err)?,
    })
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn insert_product(&self, product: &Product) -> Result<(), DbError> {
        sqlx::query(&format!(
            "INSERT INTO products ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(product.id)
        .bind(product.seller_id)
        .bind(&product.name)
        .bind(&product.description)
        .bind(&product.category)
        .bind(product.price)
        .bind(product.stock)
        .bind(product.status.as_str())
        .bind(product.created_at)
        .bind(product.updated_at)
        .bind(product.deleted_at)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn product(&self, id: Uuid) -> Result<Product, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM products WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        product_from_row(&row)
    }
}
