//! The stock ledger from the browser: use, receive, adjust, dispose and
//! move (one scanner-first form), recalls; `/api/v1/movements`,
//! `transfers`, `stock-levels`, `recalls` and `scan/parse`.

pub mod api;
pub mod movements;
pub mod recall;
pub mod submit;

use crate::domain::Permission::*;
use crate::web::error::AppError;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[
    NavLink {
        position: 30,
        href: "/stock/use",
        label: "Use stock",
        permission: Some(MoveStock),
    },
    NavLink {
        position: 40,
        href: "/stock/receive",
        label: "Receive",
        permission: Some(MoveStock),
    },
    NavLink {
        position: 80,
        href: "/recall",
        label: "Recall",
        permission: Some(ManageCatalog),
    },
];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/stock/use", Perm(MoveStock), movements::use_form),
        post("/stock/use", Perm(MoveStock), submit::use_submit).idempotent(),
        get("/stock/receive", Perm(MoveStock), movements::receive_form),
        post("/stock/receive", Perm(MoveStock), submit::receive_submit).idempotent(),
        get("/stock/adjust", Perm(MoveStock), movements::adjust_form),
        post("/stock/adjust", Perm(MoveStock), submit::adjust_submit).idempotent(),
        get("/stock/dispose", Perm(MoveStock), movements::dispose_form),
        post("/stock/dispose", Perm(MoveStock), submit::dispose_submit).idempotent(),
        get("/stock/transfer", Perm(MoveStock), movements::transfer_form),
        post("/stock/transfer", Perm(MoveStock), submit::transfer_submit).idempotent(),
        get("/recall", Perm(ManageCatalog), recall::show),
        post(
            "/recall/quarantine",
            Perm(ManageCatalog),
            recall::quarantine,
        ),
        post("/recall/dispose", Perm(ManageCatalog), recall::dispose).idempotent(),
        get("/api/v1/scan/parse", Perm(ViewStock), api::parse),
        get("/api/v1/recalls", Perm(ManageCatalog), api::find),
        post(
            "/api/v1/recalls/quarantine",
            Perm(ManageCatalog),
            api::quarantine,
        ),
        post("/api/v1/recalls/dispose", Perm(ManageCatalog), api::dispose).idempotent(),
        get("/api/v1/stock-levels", Perm(ViewStock), api::levels),
        get("/api/v1/movements", Perm(ViewStock), api::list),
        post("/api/v1/movements", Perm(MoveStock), api::record).idempotent(),
        post("/api/v1/transfers", Perm(MoveStock), api::transfer).idempotent(),
    ]
}

/// How this area's refusals and missing records answer over HTTP.
impl From<crate::stock::StockError> for AppError {
    fn from(e: crate::stock::StockError) -> Self {
        use crate::stock::StockError::*;
        match e {
            Invalid(f) => AppError::Invalid(f),
            Refused(r) => AppError::Refused(r),
            e @ Insufficient(_) => AppError::InsufficientStock(e.to_string()),
            Db(db) => db.into(),
        }
    }
}
