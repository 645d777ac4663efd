//! The JSON API under `/api/v1`, authenticated with bearer tokens.
//!
//! Conventions every endpoint follows: errors are
//! `{"error": {"code", "message", "details": [{"field", "message"}], "request_id"}}`
//! (rendered by the error-page middleware from `AppError`); lists are
//! paginated with `?page=` (from 1) and `?per_page=` (1-200) and answer
//! `{"items", "page", "per_page", "total"}`.

use serde::{Deserialize, Serialize};

use crate::validation::FieldErrors;
use crate::web::error::AppError;

/// The body of every `…/active` endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActiveInput {
    /// false deactivates (history stays), true reactivates.
    pub active: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    page: Option<u32>,
    /// Items per page, 1-200 (default 50).
    per_page: Option<u32>,
}

impl PageQuery {
    /// (page, per_page, offset), refusing out-of-range values.
    pub fn resolve(&self) -> Result<(u32, u32, u32), AppError> {
        let mut errors = FieldErrors::default();
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(50);
        if page == 0 || page > 1_000_000 {
            errors.add("page", "must be from 1 to 1000000");
        }
        if !(1..=200).contains(&per_page) {
            errors.add("per_page", "must be from 1 to 200");
        }
        errors.into_result()?;
        Ok((page, per_page, (page - 1) * per_page))
    }

    /// One page of a list read whole (short lists, or ones filtered in
    /// code): every list the API answers is paged the same way.
    pub fn page_of<T: utoipa::ToSchema>(&self, all: Vec<T>) -> Result<Paginated<T>, AppError> {
        let (page, per_page, offset) = self.resolve()?;
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(offset as usize)
            .take(per_page as usize)
            .collect();
        Ok(Paginated {
            items,
            page,
            per_page,
            total,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paginated<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

/// The error body, for the OpenAPI document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid-input`: one of the
    /// listed values, each explained in docs/errors.md.
    pub code: String,
    pub message: String,
    pub details: Vec<crate::validation::FieldError>,
    pub request_id: String,
}
