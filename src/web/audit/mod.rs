//! The audit log page for managers and administrators.

pub mod list;

use crate::domain::Permission::*;
use crate::web::middleware::authorize::Access::*;
use crate::web::render::NavLink;
use crate::web::routes::{RouteDef, get};

/// This area's links in the navigation.
pub const NAV: &[NavLink] = &[NavLink {
    position: 150,
    href: "/audit",
    label: "Audit log",
    permission: Some(ViewAudit),
}];

/// This area's routes, each with what it requires.
pub fn routes() -> Vec<RouteDef> {
    vec![get("/audit", Perm(ViewAudit), list::list)]
}
