//! Server-rendered pages, one module per area.

pub mod account;
pub mod audit;
pub mod auth;
pub mod home;
pub mod imports;
pub mod items;
pub mod jobs;
pub mod locations;
pub mod order_receiving;
pub mod orders;
pub mod purchasing;
pub mod recall;
pub mod setup;
pub mod stock;
pub mod suppliers;
pub mod tokens;
pub mod users;

/// The deactivate/reactivate buttons of items, suppliers and locations:
/// `active=1` reactivates, anything else deactivates.
#[derive(Debug, serde::Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
}

impl ActiveForm {
    pub fn is_active(&self) -> bool {
        self.active == "1"
    }
}

/// A `next=` target that stays on this site: a local absolute path only.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_on_site() {
        assert_eq!(super::safe_next(Some("/admin/users")), "/admin/users");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert_eq!(super::safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(super::safe_next(None), "/");
    }
}
