//! The one application error. The HTTP layer turns it into a page in one place
//! (`http::respond`): 4xx get a friendly page, 5xx log the cause and show a fixed message.

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// The role may not do this; also every SQLSTATE 42501 (grant or policy refusal).
    #[error("forbidden")]
    Forbidden,
    #[error("sign-in required")]
    SignInRequired,
    /// Signed in, but with no active shop in context (none yet, or suspended).
    #[error("no active shop")]
    NoShop,
    #[error("missing or wrong CSRF token")]
    Csrf,
    /// A request that cannot be read at all; the text is an i18n key.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("request body too large")]
    TooLarge,
    #[error("database: {0}")]
    Db(DbError),
    #[error("internal: {0}")]
    Internal(String),
    /// The shop's plan does not allow this write (SQLSTATE LM001, see `domain::limits`).
    #[error("plan limit reached: {0:?}")]
    PlanLimit(crate::domain::limits::PlanLimit),
}

fn is_permission_denied(e: &tokio_postgres::Error) -> bool {
    e.code().map(|c| c.code()) == Some("42501")
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match &e {
            DbError::Pg(pg) if is_permission_denied(pg) => AppError::Forbidden,
            DbError::Pg(pg) => match crate::domain::limits::PlanLimit::from_db_error(pg) {
                Some(limit) => AppError::PlanLimit(limit),
                None => AppError::Db(e),
            },
            _ => AppError::Db(e),
        }
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(e: tokio_postgres::Error) -> Self {
        AppError::from(DbError::Pg(e))
    }
}

/// The name of the constraint a database error violated, if any.
pub fn violated_constraint(e: &tokio_postgres::Error) -> Option<&str> {
    e.as_db_error().and_then(|d| d.constraint())
}
