use async_trait::async_trait;
use chrono::{DateTime, Utc};
use const_format::formatcp;
use rushline_domain::catalog::{ProductChanges, ProductCursor, ProductSort};
use rushline_store::{
    CatalogStore, DbError, ListScope, NO_USER_LIMIT, PRODUCT_IMAGES_LIMIT, Product, ProductDetails,
    ProductImage, ProductQuery, TIME_SALES_NO_OVERLAP, TimeSale, product_pool_key,
};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{
    Db, DbConnection, DbRow, FOR_UPDATE, SqlStore, map_err, parse_column, push_one_of, push_search,
};

const COLUMNS: &str = "id, seller_id, name, description, category, price, stock, status, \
                       created_at, updated_at, deleted_at, max_per_order";
const IMAGE_COLUMNS: &str = "id, product_id, content_type, size_bytes, sha256, created_at";
const SALE_COLUMNS: &str = "id, product_id, price, starts_at, ends_at, created_at";

pub(crate) fn product_from_row(row: &DbRow) -> Result<Product, DbError> {
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
        max_per_order: row.try_get("max_per_order").map_err(map_err)?,
    })
}

fn image_from_row(row: &DbRow) -> Result<ProductImage, DbError> {
    Ok(ProductImage {
        id: row.try_get("id").map_err(map_err)?,
        product_id: row.try_get("product_id").map_err(map_err)?,
        content_type: row.try_get("content_type").map_err(map_err)?,
        size_bytes: row.try_get("size_bytes").map_err(map_err)?,
        sha256: row.try_get("sha256").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
    })
}

fn time_sale_from_row(row: &DbRow) -> Result<TimeSale, DbError> {
    Ok(TimeSale {
        id: row.try_get("id").map_err(map_err)?,
        product_id: row.try_get("product_id").map_err(map_err)?,
        price: row.try_get("price").map_err(map_err)?,
        starts_at: row.try_get("starts_at").map_err(map_err)?,
        ends_at: row.try_get("ends_at").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
    })
}

impl SqlStore {
    /// Images and pending time sales of `products`, attached in the products' order.
    async fn with_details(
        &self,
        products: Vec<Product>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ProductDetails>, DbError> {
        if products.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = products.iter().map(|p| p.id).collect();
        let mut images =
            QueryBuilder::<Db>::new(format!("SELECT {IMAGE_COLUMNS} FROM product_images WHERE "));
        push_one_of(&mut images, "product_id", &ids);
        images.push(" ORDER BY created_at, id");
        let images = images
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?
            .iter()
            .map(image_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let mut sales =
            QueryBuilder::<Db>::new(format!("SELECT {SALE_COLUMNS} FROM time_sales WHERE "));
        push_one_of(&mut sales, "product_id", &ids);
        sales.push(" AND ends_at > ").push_bind(now);
        sales.push(" ORDER BY starts_at");
        let sales = sales
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?
            .iter()
            .map(time_sale_from_row)
            .collect::<Result<Vec<_>, _>>()?;

        let ratings = super::reviews::histograms(self.reader(), &ids).await?;

        Ok(products
            .into_iter()
            .map(|product| ProductDetails {
                rating: ratings.get(&product.id).copied().unwrap_or_default(),
                images: images
                    .iter()
                    .filter(|i| i.product_id == product.id)
                    .cloned()
                    .collect(),
                time_sales: sales
                    .iter()
                    .filter(|s| s.product_id == product.id)
                    .cloned()
                    .collect(),
                product,
            })
            .collect())
    }
}

/// Finds a product that is not deleted and locks it for the rest of `tx`, so that checks on its
/// children (image count, time-sale overlap) hold until the insert that depends on them commits.
async fn lock_live_product(tx: &mut DbConnection, product_id: Uuid) -> Result<(), DbError> {
    sqlx::query(formatcp!(
        "SELECT 1 FROM products WHERE id = $1 AND deleted_at IS NULL{FOR_UPDATE}"
    ))
    .bind(product_id)
    .fetch_one(tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl CatalogStore for SqlStore {
    async fn insert_product(&self, product: &Product) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        sqlx::query(&format!(
            "INSERT INTO products ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
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
        .bind(product.max_per_order)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        // Regular stock is sold through the gate like a drop: a pool with no per-buyer limit.
        super::claims::insert_pool(
            &mut tx,
            product_pool_key(product.id),
            product.stock,
            NO_USER_LIMIT,
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }

    async fn product(&self, id: Uuid) -> Result<Product, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM products WHERE id = $1"))
            .bind(id)
            .fetch_one(self.reader())
            .await
            .map_err(map_err)?;
        product_from_row(&row)
    }

    async fn update_product(
        &self,
        id: Uuid,
        changes: &ProductChanges,
        now: DateTime<Utc>,
    ) -> Result<Product, DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        let row = sqlx::query(&format!(
            "UPDATE products SET name = COALESCE($2, name), description = COALESCE($3, description), \
             category = COALESCE($4, category), price = COALESCE($5, price), \
             stock = COALESCE($6, stock), status = COALESCE($7, status), updated_at = $8, \
             max_per_order = COALESCE($9, max_per_order) \
             WHERE id = $1 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(&changes.name)
        .bind(&changes.description)
        .bind(&changes.category)
        .bind(changes.price)
        .bind(changes.stock)
        .bind(changes.status.map(|s| s.as_str()))
        .bind(now)
        .bind(changes.max_per_order)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(stock) = changes.stock {
            // Fails on `pools_held_check` when orders hold more units than the new stock.
            sqlx::query("UPDATE pools SET total = $2 WHERE key = $1")
                .bind(product_pool_key(id))
                .bind(stock)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        product_from_row(&row)
    }

    async fn delete_product(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError> {
        let deleted = sqlx::query(
            "UPDATE products SET deleted_at = $2, updated_at = $2 \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(self.writer())
        .await
        .map_err(map_err)?
        .rows_affected();
        if deleted == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    async fn product_details(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ProductDetails, DbError> {
        let product = self.product(id).await?;
        let mut details = self.with_details(vec![product], now).await?;
        Ok(details.remove(0))
    }

    async fn list_products(
        &self,
        query: &ProductQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<ProductDetails>, DbError> {
        // Only the conditions in use are written out, so that the planner sees the same shape
        // as the index built for it (see 0004_catalog.sql).
        let mut sql = QueryBuilder::<Db>::new(format!(
            "SELECT {COLUMNS} FROM products WHERE deleted_at IS NULL"
        ));
        match query.scope {
            ListScope::Active => {
                sql.push(" AND status = 'active'");
            }
            ListScope::OwnedBy(seller) => {
                sql.push(" AND seller_id = ").push_bind(seller);
            }
        }
        if let Some(category) = &query.category {
            sql.push(" AND category = ").push_bind(category.clone());
        }
        if let Some(seller) = query.seller_id {
            sql.push(" AND seller_id = ").push_bind(seller);
        }
        if !query.terms.is_empty() {
            sql.push(" AND ");
            push_search(&mut sql, &query.terms);
        }
        match query.after {
            None => {}
            Some(ProductCursor::Newest { created_at, id }) => {
                sql.push(" AND (created_at, id) < (")
                    .push_bind(created_at)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            Some(ProductCursor::PriceAsc { price, id }) => {
                sql.push(" AND (price, id) > (")
                    .push_bind(price)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            Some(ProductCursor::PriceDesc { price, id }) => {
                sql.push(" AND (price, id) < (")
                    .push_bind(price)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
        }
        sql.push(match query.sort {
            ProductSort::Newest => " ORDER BY created_at DESC, id DESC",
            ProductSort::PriceAsc => " ORDER BY price ASC, id ASC",
            ProductSort::PriceDesc => " ORDER BY price DESC, id DESC",
        });
        sql.push(" LIMIT ").push_bind(i64::from(query.limit));
        let products = sql
            .build()
            .fetch_all(self.reader())
            .await
            .map_err(map_err)?
            .iter()
            .map(product_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.with_details(products, now).await
    }

    async fn add_product_image(
        &self,
        image: &ProductImage,
        max_per_product: u32,
    ) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        lock_live_product(&mut tx, image.product_id).await?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM product_images WHERE product_id = $1")
                .bind(image.product_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        if count >= i64::from(max_per_product) {
            return Err(DbError::Conflict {
                constraint: PRODUCT_IMAGES_LIMIT.to_owned(),
            });
        }
        sqlx::query(&format!(
            "INSERT INTO product_images ({IMAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(image.id)
        .bind(image.product_id)
        .bind(&image.content_type)
        .bind(image.size_bytes)
        .bind(&image.sha256)
        .bind(image.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn product_image(
        &self,
        product_id: Uuid,
        image_id: Uuid,
    ) -> Result<ProductImage, DbError> {
        let row = sqlx::query(
            "SELECT i.id, i.product_id, i.content_type, i.size_bytes, i.sha256, i.created_at \
             FROM product_images i JOIN products p ON p.id = i.product_id \
             WHERE i.id = $1 AND i.product_id = $2 AND p.deleted_at IS NULL",
        )
        .bind(image_id)
        .bind(product_id)
        .fetch_one(self.reader())
        .await
        .map_err(map_err)?;
        image_from_row(&row)
    }

    async fn insert_time_sale(&self, sale: &TimeSale) -> Result<(), DbError> {
        let mut tx = self.writer().begin().await.map_err(map_err)?;
        lock_live_product(&mut tx, sale.product_id).await?;
        let overlaps: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM time_sales \
                            WHERE product_id = $1 AND ends_at > $2 AND starts_at < $3)",
        )
        .bind(sale.product_id)
        .bind(sale.starts_at)
        .bind(sale.ends_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if overlaps {
            return Err(DbError::Conflict {
                constraint: TIME_SALES_NO_OVERLAP.to_owned(),
            });
        }
        sqlx::query(&format!(
            "INSERT INTO time_sales ({SALE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(sale.id)
        .bind(sale.product_id)
        .bind(sale.price)
        .bind(sale.starts_at)
        .bind(sale.ends_at)
        .bind(sale.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn time_sales(&self, product_id: Uuid) -> Result<Vec<TimeSale>, DbError> {
        sqlx::query(&format!(
            "SELECT {SALE_COLUMNS} FROM time_sales WHERE product_id = $1 ORDER BY starts_at"
        ))
        .bind(product_id)
        .fetch_all(self.reader())
        .await
        .map_err(map_err)?
        .iter()
        .map(time_sale_from_row)
        .collect()
    }
}
