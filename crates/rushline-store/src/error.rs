use thiserror::Error;

/// What can go wrong in storage, in terms the layers above can act on.
#[derive(Debug, Clone, Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A named constraint refused the write; callers map the name to a domain error.
    #[error("constraint {constraint} violated")]
    Conflict { constraint: String },
    /// The database cannot be reached or is overloaded: worth a 503 and a retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl DbError {
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, DbError::Conflict { constraint } if constraint == name)
    }
}
