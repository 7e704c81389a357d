use rushline_store::DbError;

pub(crate) fn map_err(e: sqlx::Error) -> DbError {
    match e {
        sqlx::Error::RowNotFound => DbError::NotFound,
        sqlx::Error::Database(db) => {
            if let Some(constraint) = db.constraint() {
                return DbError::Conflict {
                    constraint: constraint.to_owned(),
                };
            }
            match db.code().as_deref() {
                // Class 08 (connection), 40 (transaction rollback: deadlock, serialization),
                // 53 (insufficient resources), 57P (operator intervention).
                Some(code)
                    if code.starts_with("08")
                        || code.starts_with("40")
                        || code.starts_with("53")
                        || code.starts_with("57P") =>
                {
                    DbError::Unavailable(db.message().to_owned())
                }
                _ => DbError::Other(db.message().to_owned()),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Protocol(_) => DbError::Unavailable(e.to_string()),
        other => DbError::Other(other.to_string()),
    }
}
