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

use crate::db::DbError;
use crate::domain::refusal::{self, Refusal};
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
    /// A business rule said no, with its own stable code (409, or 403 when
    /// the one asking may not do it at all).
    #[error("refused ({}): {}", .0.code.code, .0.message)]
    Refused(Refusal),
    /// A movement would take more than is there; the message says how much is.
    #[error("{0}")]
    InsufficientStock(String),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("request body too slow")]
    RequestTimeout,
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
    /// A body that could not be read: too slow (408) or broken (400).
    pub fn unreadable_body(e: &actix_web::error::PayloadError) -> Self {
        if crate::web::middleware::body_deadline::is_timeout(e) {
            AppError::RequestTimeout
        } else {
            AppError::BadRequest(format!("could not read the request: {e}"))
        }
    }

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
            Refused(r) => (
                r.code.code,
                status_of(r.code.kind),
                crate::validation::capitalised(&r.message),
            ),
            InsufficientStock(m) => ("stock-would-go-negative", StatusCode::CONFLICT, crate::validation::capitalised(m)),
            RateLimited { retry_after_secs } => (
                "rate-limited",
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many attempts. Try again in {}.", human_wait(*retry_after_secs)),
            ),
            PayloadTooLarge => ("payload-too-large", StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.".into()),
            RequestTimeout => (
                "request-timeout",
                StatusCode::REQUEST_TIMEOUT,
                "The request did not arrive in time. Check the connection and try again.".into(),
            ),
            MethodNotAllowed => ("method-not-allowed", StatusCode::METHOD_NOT_ALLOWED, "That action is not available here.".into()),
            Internal(cause) if disk_full(cause) => (
                "disk-full",
                StatusCode::INSUFFICIENT_STORAGE,
                "The data disk is full: nothing was saved. Tell whoever looks after the stockroom machine; it works again as soon as there is room.".into(),
            ),
            Internal(_) => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. The problem has been logged.".into(),
            ),
        }
    }
}

/// Whether a fault is the disk (or the database) being full: SQLite's
/// "database or disk is full", or the system's "no space left on device",
/// anywhere in the chain of causes.
pub fn disk_full(cause: &anyhow::Error) -> bool {
    cause.chain().any(|e| {
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = e.downcast_ref::<rusqlite::Error>() {
            return f.code == rusqlite::ErrorCode::DiskFull;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::StorageFull;
        }
        // A group commit passes its cause on as text.
        let text = e.to_string();
        text.contains("database or disk is full") || text.contains("No space left on device")
    })
}

/// Where the data lives, for the free space a disk-full error logs.
static DATA_DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Names the data directory (at start-up), so that a full disk is logged
/// with the space left on it.
pub fn set_data_dir(dir: &std::path::Path) {
    let _ = DATA_DIR.set(dir.to_path_buf());
}

fn free_bytes() -> Option<u64> {
    let dir = DATA_DIR.get()?;
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// The HTTP status of a kind of refusal.
fn status_of(kind: refusal::Kind) -> StatusCode {
    match kind {
        refusal::Kind::Conflict => StatusCode::CONFLICT,
        refusal::Kind::NotPermitted => StatusCode::FORBIDDEN,
        refusal::Kind::NotUsable => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The codes of [`AppError`]'s own variants: (code, status, meaning).
const OWN_CODES: &[(&str, u16, &str)] = &[
    (
        "not-found",
        404,
        "The page or record does not exist (or is not visible to the caller).",
    ),
    (
        "unauthenticated",
        401,
        "No valid session or bearer token; sign in or send `Authorization: Bearer …`.",
    ),
    (
        "forbidden",
        403,
        "The caller's role (or a read-only token) does not allow this.",
    ),
    (
        "csrf-rejected",
        403,
        "A form came without a valid CSRF token or from another site.",
    ),
    (
        "cross-origin",
        403,
        "An API request came from an origin not in `http.allowed_origins`.",
    ),
    (
        "setup-link-invalid",
        403,
        "The first-run setup link is wrong.",
    ),
    ("setup-complete", 404, "First-run setup is already done."),
    (
        "invalid-input",
        422,
        "One or more fields are wrong; `details` names each field and its problem.",
    ),
    (
        "bad-request",
        400,
        "The body, form or query could not be read at all.",
    ),
    (
        "stock-would-go-negative",
        409,
        "The movement would take more than the location holds of that item and lot.",
    ),
    (
        "rate-limited",
        429,
        "Too many attempts from this address or for this username; see `Retry-After`.",
    ),
    (
        "payload-too-large",
        413,
        "The request body is larger than allowed.",
    ),
    (
        "request-timeout",
        408,
        "The request body did not arrive within `http.body_timeout_secs`; the connection is closed.",
    ),
    (
        "method-not-allowed",
        405,
        "The path exists, but not with this method.",
    ),
    (
        "disk-full",
        507,
        "The data disk (or the database) is full: nothing was saved; it works again once there is room.",
    ),
    (
        "internal",
        500,
        "A fault on stockroom's side; the log has the cause under the request id.",
    ),
];

/// Every stable code a response can carry: (code, HTTP status, meaning).
/// The OpenAPI document lists these codes and `docs/errors.md` documents
/// each one; a test holds both to this list.
pub fn codes() -> Vec<(&'static str, u16, &'static str)> {
    let mut all: Vec<(&'static str, u16, &'static str)> = OWN_CODES.to_vec();
    for list in [
        crate::accounts::REFUSALS,
        crate::jobs::REFUSALS,
        crate::orders::refusals::REFUSALS,
        crate::dispatch::REFUSALS,
        crate::csv_io::REFUSALS,
        crate::stock::REFUSALS,
        crate::web::middleware::idempotency::REFUSALS,
    ] {
        for c in list {
            let status = status_of(c.kind).as_u16();
            all.push((c.code, status, c.meaning));
        }
    }
    all
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
            if code == "disk-full" {
                tracing::error!(
                    code,
                    free_bytes = free_bytes(),
                    cause = format!("{cause:#}"),
                    "the data disk is full: the change was not saved"
                );
            } else {
                tracing::error!(code, cause = format!("{cause:#}"), "request failed");
            }
        }
        let mut resp = HttpResponse::build(status);
        if let AppError::RateLimited { retry_after_secs } = self {
            resp.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        if let AppError::RequestTimeout = self {
            // The rest of the body is not read: the connection cannot be reused.
            resp.force_close();
        }
        let mut resp = resp.finish();
        resp.extensions_mut().insert(ErrorInfo {
            code,
            message,
            details: match self {
                AppError::Invalid(e) => e.0.clone(),
                AppError::Refused(Refusal {
                    field: Some(field),
                    message,
                    ..
                }) => vec![crate::validation::FieldError {
                    field: field.clone(),
                    message: message.clone(),
                }],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_well_formed_unique_and_documented() {
        let all = codes();
        let mut seen = std::collections::HashSet::new();
        for (code, _, meaning) in &all {
            assert!(refusal::well_formed(code), "{code:?}");
            assert!(seen.insert(*code), "{code} is listed twice");
            assert!(!meaning.is_empty(), "{code} has no meaning");
        }
        // docs/errors.md has one table row per code: | `code` | status | meaning |
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md"),
        )
        .expect("docs/errors.md");
        let documented: Vec<(String, u16)> = doc
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((code.to_string(), cells.get(2)?.parse().ok()?))
            })
            .collect();
        let expected: Vec<(String, u16)> =
            all.iter().map(|(c, s, _)| (c.to_string(), *s)).collect();
        let missing: Vec<_> = expected
            .iter()
            .filter(|e| !documented.contains(e))
            .collect();
        let stale: Vec<_> = documented
            .iter()
            .filter(|d| !expected.contains(d))
            .collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "docs/errors.md is out of step with web::error::codes(): missing {missing:?}, not a code (or wrong status) {stale:?}"
        );
    }

    /// Each variant's code is in the list clients are given.
    #[test]
    fn every_variant_answers_with_a_listed_code() {
        let listed: Vec<&str> = codes().iter().map(|c| c.0).collect();
        let samples = [
            AppError::NotFound,
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::Csrf,
            AppError::CrossOrigin,
            AppError::SetupLinkInvalid,
            AppError::SetupComplete,
            AppError::Invalid(FieldErrors::single("x", "y")),
            AppError::BadRequest("x".into()),
            AppError::InsufficientStock("x".into()),
            AppError::RateLimited {
                retry_after_secs: 1,
            },
            AppError::PayloadTooLarge,
            AppError::RequestTimeout,
            AppError::MethodNotAllowed,
            AppError::internal(anyhow::anyhow!("x")),
            AppError::internal(std::io::Error::from(std::io::ErrorKind::StorageFull)),
            AppError::from(crate::accounts::AccountsError::LastAdmin),
            AppError::from(crate::accounts::AccountsError::SelfLockout),
        ];
        for e in samples {
            let (code, status, _) = e.parts();
            assert!(listed.contains(&code), "{code} is not listed");
            let (_, listed_status, _) = codes().into_iter().find(|c| c.0 == code).unwrap();
            assert_eq!(status.as_u16(), listed_status, "{code}");
        }
    }

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
