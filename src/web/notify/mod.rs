//! The daily digest's settings page and its "send now" button.

pub mod digest;

use crate::domain::Permission::*;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get, post};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![
        get("/admin/digest", Perm(ManageSettings), digest::show),
        post("/admin/digest", Perm(ManageSettings), digest::save),
        post("/admin/digest/send", Perm(ManageSettings), digest::send_now),
    ]
}
