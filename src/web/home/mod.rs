//! The dashboard: what needs attention today.

pub mod dashboard;

use crate::domain::Permission::*;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[NavLink {
    position: 10,
    href: "/",
    label: "Dashboard",
    permission: None,
}];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![get("/", Perm(ViewStock), dashboard::show)]
}
