//! The catalog: items (with pack levels and their GTINs), categories and
//! locations (a tree with access lists). Service functions take a
//! transaction and the audit context; each change is audited in the same
//! transaction. No HTTP types here.

pub mod categories;
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

/// The result of a service call together with the problems a form found
/// before it (fields that did not even parse): every problem is reported at
/// once, and anything the call wrote is rolled back with the error.
pub fn with_form_errors<T>(
    form: FieldErrors,
    result: Result<T, CatalogError>,
) -> Result<T, CatalogError> {
    match result {
        Err(CatalogError::Invalid(e)) => {
            let mut all = form;
            for f in e.0 {
                if all.get(&f.field).is_none() {
                    all.0.push(f);
                }
            }
            Err(CatalogError::Invalid(all))
        }
        Ok(_) if !form.is_empty() => Err(CatalogError::Invalid(form)),
        other => other,
    }
}

#[cfg(test)]
mod tests;
