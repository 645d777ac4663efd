//! The job queue for administrators: the pages and `/api/v1/jobs`.

pub mod api;
pub mod job;
mod pages;

use crate::domain::Permission::*;
use crate::web::error::AppError;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[NavLink {
    position: 140,
    href: "/admin/jobs",
    label: "Jobs",
    permission: Some(ManageJobs),
}];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/admin/jobs", Perm(ManageJobs), pages::list),
        get("/admin/jobs/{id}", Perm(ManageJobs), job::show),
        post("/admin/jobs/{id}/retry", Perm(ManageJobs), job::retry),
        post("/admin/jobs/{id}/cancel", Perm(ManageJobs), job::cancel),
        post("/admin/jobs/{id}/dismiss", Perm(ManageJobs), job::dismiss),
        post("/admin/jobs/{id}/try-now", Perm(ManageJobs), job::try_now),
        get("/api/v1/jobs", Perm(ManageJobs), api::list),
        get("/api/v1/jobs/stats", Perm(ManageJobs), api::stats),
        get("/api/v1/jobs/{id}", Perm(ManageJobs), api::show),
        post("/api/v1/jobs/{id}/retry", Perm(ManageJobs), api::retry),
        post("/api/v1/jobs/{id}/cancel", Perm(ManageJobs), api::cancel),
        post("/api/v1/jobs/{id}/dismiss", Perm(ManageJobs), api::dismiss),
        post("/api/v1/jobs/{id}/try-now", Perm(ManageJobs), api::try_now),
    ]
}

/// How this area's refusals and missing records answer over HTTP.
impl From<crate::jobs::JobsError> for AppError {
    fn from(e: crate::jobs::JobsError) -> Self {
        use crate::jobs::JobsError::*;
        match e {
            NoSuchJob => AppError::NotFound,
            Refused(r) => AppError::Refused(r),
            Db(db) => db.into(),
        }
    }
}
