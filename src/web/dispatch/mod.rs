//! Sending orders, seen from outside and from the admin pages: the
//! supplier's signed confirmation link, the EDI inbox, and the supplier's
//! sending channel (set it, send a test).

pub mod channel;
pub mod confirm;
pub mod edi_inbox;

use crate::domain::Permission::*;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/admin/edi-inbox", Perm(ManageJobs), edi_inbox::show),
        post(
            "/admin/edi-inbox/check",
            Perm(ManageJobs),
            edi_inbox::check_now,
        ),
        post(
            "/suppliers/{id}/dispatch",
            Perm(ManageSettings),
            channel::set_dispatch,
        ),
        post(
            "/suppliers/{id}/dispatch/test",
            Perm(ManageCatalog),
            channel::send_test,
        ),
        // A supplier's signed confirmation link: the token is the permission.
        get("/supplier/confirm/{token}", Public, confirm::show),
        post("/supplier/confirm/{token}", Public, confirm::submit),
    ]
}
