//! Roles and what each may do. Authorization asks `role.may(permission)`;
//! adding a capability means adding a permission here, never a role check
//! scattered in a handler.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Staff,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Staff, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Manager => "Practice manager",
            Role::Staff => "Staff",
            Role::Viewer => "Viewer",
        }
    }

    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ViewStock => true,
            MoveStock => self != Role::Viewer,
            ManageCatalog => matches!(self, Role::Admin | Role::Manager),
            RequestOrders => self != Role::Viewer,
            ManageOrders | ApproveOrders => matches!(self, Role::Admin | Role::Manager),
            ManageSettings => self == Role::Admin,
            ViewAudit => matches!(self, Role::Admin | Role::Manager),
            ManageUsers | ManageApiTokens => self == Role::Admin,
            ManageJobs => self == Role::Admin,
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| "must be one of admin, manager, staff, viewer".to_string())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a route needs. Every route names one (or is explicitly public),
/// so a route that forgets is refused, not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the dashboard and stock figures: every signed-in role.
    ViewStock,
    /// Receive, use, adjust, transfer and dispose of stock: all but viewers.
    MoveStock,
    /// Create and change items, packs and locations: managers and admins.
    ManageCatalog,
    /// Draft orders, submit them, reopen and cancel them before approval:
    /// all but viewers.
    RequestOrders,
    /// Place, confirm, close and cancel approved orders; returns and
    /// credits: managers and admins.
    ManageOrders,
    /// Take approval steps (which steps, the rules decide): managers and
    /// admins.
    ApproveOrders,
    /// Practice details and approval rules: admins.
    ManageSettings,
    /// Read the audit trail.
    ViewAudit,
    /// Create, disable and change users.
    ManageUsers,
    /// Create and revoke API tokens.
    ManageApiTokens,
    /// See the job queue (counts, jobs, attempts, errors), retry dead jobs
    /// and cancel waiting ones: admins.
    ManageJobs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_users_and_tokens() {
        for role in Role::ALL {
            assert_eq!(role.may(Permission::ManageUsers), role == Role::Admin);
            assert_eq!(role.may(Permission::ManageApiTokens), role == Role::Admin);
            assert_eq!(role.may(Permission::ManageJobs), role == Role::Admin);
            assert!(role.may(Permission::ViewStock));
        }
        assert!(Role::Manager.may(Permission::ViewAudit));
        assert!(Role::Staff.may(Permission::MoveStock) && !Role::Viewer.may(Permission::MoveStock));
        assert!(
            Role::Manager.may(Permission::ManageCatalog)
                && !Role::Staff.may(Permission::ManageCatalog)
        );
        assert!(!Role::Staff.may(Permission::ViewAudit));
        assert!(
            Role::Staff.may(Permission::RequestOrders)
                && !Role::Viewer.may(Permission::RequestOrders)
        );
        assert!(
            !Role::Staff.may(Permission::ManageOrders)
                && Role::Manager.may(Permission::ApproveOrders)
        );
        assert!(
            Role::Admin.may(Permission::ManageSettings)
                && !Role::Manager.may(Permission::ManageSettings)
        );
    }

    #[test]
    fn parses_its_own_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
