//! The catalog: items (with pack levels and their GTINs), categories and
//! locations (a tree with access lists). Service functions take a
//! transaction and the audit context; each change is audited in the same
//! transaction. No HTTP types here.

pub mod categories;
pub mod item_forms;
pub mod items;
pub mod locations;
pub mod search;
pub mod suppliers;

use crate::db::DbError;
use crate::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("no such item")]
    NoSuchItem,
    #[error("no such location")]
    NoSuchLocation,
    #[error("no such category")]
    NoSuchCategory,
    #[error("no such supplier")]
    NoSuchSupplier,
    #[error("no such supplier item")]
    NoSuchSupplierItem,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for CatalogError {
    fn from(e: rusqlite::Error) -> Self {
        CatalogError::Db(DbError::Sqlite(e))
    }
}

impl From<FieldErrors> for CatalogError {
    fn from(e: FieldErrors) -> Self {
        CatalogError::Invalid(e)
    }
}

impl crate::validation::FormError for CatalogError {
    fn into_field_errors(self) -> Result<FieldErrors, Self> {
        match self {
            CatalogError::Invalid(e) => Ok(e),
            other => Err(other),
        }
    }

    fn from_field_errors(errors: FieldErrors) -> Self {
        CatalogError::Invalid(errors)
    }
}

pub use crate::validation::with_form_errors;

#[cfg(test)]
mod tests;
