//! The application error: one type that every handler returns, mapped to
//! HTTP in one exhaustive `match`.
//!
//! The user-facing message is kept apart from the logged cause: a 500 shows
//! only a reference (the request id), while the cause goes to the log. Each
//! error carries a stable `code` used in JSON bodies and log lines. The
//! response gets an [`ErrorInfo`] extension; the error-page middleware turns
//! that into an HTML page in the site layout or a JSON body for `/api/`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::accounts::AccountsError;
use crate::db::DbError;
use crate::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("request refused by CSRF protection")]
    Csrf,
    #[error("cross-origin request refused")]
    CrossOrigin,
    #[error("invalid setup link")]
    SetupLinkInvalid,
    #[error("setup is complete")]
    SetupComplete,
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A movement would take more than is there; the message says how much is.
    #[error("{0}")]
    InsufficientStock(String),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A fault on our side. The cause (with its chain of sources) goes to
    /// the log, never to the client.
    #[error("internal error: {0:#}")]
    Internal(#[source] anyhow::Error),
}

/// What the error-page middleware needs to render the final body.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message: String,
    pub details: Vec<crate::validation::FieldError>,
}

impl AppError {
    /// An internal error that keeps `cause` (and its sources) for the log.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(cause.into())
    }

    /// Stable code, HTTP status and the message a user may see.
    fn parts(&self) -> (&'static str, StatusCode, String) {
        use AppError::*;
        match self {
            NotFound => ("not-found", StatusCode::NOT_FOUND, "That page or record does not exist.".into()),
            Unauthenticated => ("unauthenticated", StatusCode::UNAUTHORIZED, "Please sign in.".into()),
            Forbidden => ("forbidden", StatusCode::FORBIDDEN, "You do not have permission to do that.".into()),
            Csrf => (
                "csrf-rejected",
                StatusCode::FORBIDDEN,
                "The form was out of date or came from another site. Go back, reload the page and try again.".into(),
            ),
            CrossOrigin => ("cross-origin", StatusCode::FORBIDDEN, "Cross-origin requests are not allowed.".into()),
            SetupLinkInvalid => (
                "setup-link-invalid",
                StatusCode::FORBIDDEN,
                "This setup link is not valid. Copy the whole link that stockroom printed on its console when it started.".into(),
            ),
            SetupComplete => (
                "setup-complete",
                StatusCode::NOT_FOUND,
                "stockroom is already set up. Sign in with your account; an administrator creates accounts for everyone else.".into(),
            ),
            Invalid(e) => ("invalid-input", StatusCode::UNPROCESSABLE_ENTITY, format!("Please correct: {e}")),
            BadRequest(m) => ("bad-request", StatusCode::BAD_REQUEST, m.clone()),
            Conflict(m) => ("conflict", StatusCode::CONFLICT, m.clone()),
            InsufficientStock(m) => ("stock-would-go-negative", StatusCode::CONFLICT, crate::validation::capitalised(m)),
            RateLimited { retry_after_secs } => (
                "rate-limited",
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many attempts. Try again in {}.", human_wait(*retry_after_secs)),
            ),
            PayloadTooLarge => ("payload-too-large", StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.".into()),
            MethodNotAllowed => ("method-not-allowed", StatusCode::METHOD_NOT_ALLOWED, "That action is not available here.".into()),
            Internal(_) => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. The problem has been logged.".into(),
            ),
        }
    }
}

pub fn human_wait(secs: u64) -> String {
    match secs {
        0..=59 => format!("{} second{}", secs.max(1), if secs == 1 { "" } else { "s" }),
        _ => {
            let m = secs.div_ceil(60);
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.parts().1
    }

    fn error_response(&self) -> HttpResponse {
        let (code, status, message) = self.parts();
        if let AppError::Internal(cause) = self {
            // The cause is logged here, inside the request span (request id),
            // and never sent to the client.
            tracing::error!(code, cause = format!("{cause:#}"), "request failed");
        }
        let mut resp = HttpResponse::build(status);
        if let AppError::RateLimited { retry_after_secs } = self {
            resp.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        let mut resp = resp.finish();
        resp.extensions_mut().insert(ErrorInfo {
            code,
            message,
            details: match self {
                AppError::Invalid(e) => e.0.clone(),
                _ => Vec::new(),
            },
        });
        resp
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("while rendering a template"))
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<crate::catalog::CatalogError> for AppError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        use crate::catalog::CatalogError::*;
        match e {
            Invalid(f) => AppError::Invalid(f),
            NoSuchItem | NoSuchLocation | NoSuchCategory | NoSuchSupplier | NoSuchSupplierItem => {
                AppError::NotFound
            }
            Db(db) => db.into(),
        }
    }
}

impl From<crate::stock::StockError> for AppError {
    fn from(e: crate::stock::StockError) -> Self {
        use crate::stock::StockError::*;
        match e {
            Invalid(f) => AppError::Invalid(f),
            e @ Insufficient(_) => AppError::InsufficientStock(e.to_string()),
            Db(db) => db.into(),
        }
    }
}

impl From<crate::orders::OrdersError> for AppError {
    fn from(e: crate::orders::OrdersError) -> Self {
        use crate::orders::OrdersError::*;
        match e {
            Invalid(f) => AppError::Invalid(f),
            NoSuchOrder | Missing(_) => AppError::NotFound,
            Refused(m) => AppError::Conflict(crate::validation::capitalised(&m)),
            Stock(s) => s.into(),
            Db(db) => db.into(),
        }
    }
}

impl From<crate::jobs::JobsError> for AppError {
    fn from(e: crate::jobs::JobsError) -> Self {
        use crate::jobs::JobsError::*;
        match e {
            NoSuchJob => AppError::NotFound,
            Refused(m) => AppError::Conflict(m),
            Db(db) => db.into(),
        }
    }
}

impl From<AccountsError> for AppError {
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::Invalid(f) => AppError::Invalid(f),
            AccountsError::NoSuchUser | AccountsError::NoSuchToken => AppError::NotFound,
            AccountsError::SelfLockout | AccountsError::LastAdmin => {
                AppError::Conflict(e.to_string())
            }
            AccountsError::SetupClosed => AppError::SetupComplete,
            AccountsError::Db(db) => db.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_for_the_log_and_shows_none() {
        let db = DbError::from(rusqlite::Error::InvalidColumnName("ghost".into()));
        let e = AppError::from(db);
        // The chain of causes reaches the original SQLite error (not a copy of
        // its text), so the log can name it whole.
        let mut chain = std::error::Error::source(&e);
        let mut found = false;
        while let Some(cause) = chain {
            found |= cause.downcast_ref::<rusqlite::Error>().is_some();
            chain = cause.source();
        }
        assert!(found, "the SQLite error is kept as a source");
        assert!(
            e.to_string().contains("ghost"),
            "the log line names it: {e}"
        );
        let (code, status, message) = e.parts();
        assert_eq!(
            (code, status),
            ("internal", StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert!(
            !message.contains("ghost"),
            "the user is not shown it: {message}"
        );
    }
}
