//! Who acts: the one description of the caller that every service takes.
//!
//! An [`Actor`] is built once per request (by the web layer, from the
//! session or API token, in the same read that checks them) or once per job
//! (the system, or a supplier through a signed link or an EDI file), and
//! travels inside `audit::Context` to every service. It carries what the
//! rules need: the user's id, their role and the locations they may use, so
//! a service can refuse without another query and no handler has to
//! remember to check.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Role;

/// The locations an actor may see and move stock in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Places {
    /// Every location (admins; the system).
    All,
    /// Only these location ids.
    Only(Arc<BTreeSet<i64>>),
}

impl Places {
    pub fn only(ids: impl IntoIterator<Item = i64>) -> Places {
        Places::Only(Arc::new(ids.into_iter().collect()))
    }

    pub fn contains(&self, location_id: i64) -> bool {
        match self {
            Places::All => true,
            Places::Only(ids) => ids.contains(&location_id),
        }
    }
}

/// A signed-in person as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub username: String,
    /// As timelines show it.
    pub display_name: String,
    pub role: Role,
    /// Read with the session or token, at the start of the request.
    pub places: Places,
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in with a session.
    User(Person),
    /// A person's API token: the person's role and places, the token's name.
    Token { id: i64, name: String, user: Person },
    /// The supplier, through a signed confirmation link or an EDI file;
    /// `via` says which (for the audit trail).
    Supplier { via: String },
    /// stockroom itself: dispatch, scheduled jobs, the command line.
    System,
    /// Someone not signed in: a failed login, a setup attempt.
    Anonymous { claimed: Option<String> },
}

impl Actor {
    /// The person behind a session or token.
    pub fn person(&self) -> Option<&Person> {
        match self {
            Actor::User(p) | Actor::Token { user: p, .. } => Some(p),
            _ => None,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        self.person().map(|p| p.id)
    }

    pub fn role(&self) -> Option<Role> {
        self.person().map(|p| p.role)
    }

    /// Manager or admin.
    pub fn manages(&self) -> bool {
        matches!(self.role(), Some(Role::Manager | Role::Admin))
    }

    /// Whether this actor may see and move stock in `location_id`. The
    /// system may use every location; a supplier or someone not signed in
    /// none.
    pub fn may_use(&self, location_id: i64) -> bool {
        match self {
            Actor::System => true,
            Actor::User(p) | Actor::Token { user: p, .. } => p.places.contains(location_id),
            Actor::Supplier { .. } | Actor::Anonymous { .. } => false,
        }
    }

    /// The locations this actor may use, as [`Actor::may_use`] answers.
    pub fn places(&self) -> Places {
        match self {
            Actor::System => Places::All,
            Actor::User(p) | Actor::Token { user: p, .. } => p.places.clone(),
            Actor::Supplier { .. } | Actor::Anonymous { .. } => Places::only([]),
        }
    }

    /// As an order's timeline shows it.
    pub fn display_name(&self) -> String {
        match self {
            Actor::User(p) | Actor::Token { user: p, .. } => p.display_name.clone(),
            Actor::System => "stockroom".into(),
            Actor::Supplier { .. } => "supplier".into(),
            Actor::Anonymous { claimed } => claimed.clone().unwrap_or_else(|| "anonymous".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, places: Places) -> Person {
        Person {
            id: 7,
            username: "sam".into(),
            display_name: "Sam".into(),
            role,
            places,
        }
    }

    #[test]
    fn location_use_follows_the_places_read_for_the_person() {
        let sam = Actor::User(person(Role::Staff, Places::only([1, 3])));
        assert!(sam.may_use(1) && sam.may_use(3));
        assert!(!sam.may_use(2));
        let token = Actor::Token {
            id: 1,
            name: "scanner".into(),
            user: person(Role::Manager, Places::only([2])),
        };
        assert!(token.may_use(2) && !token.may_use(1));
        assert!(Actor::User(person(Role::Admin, Places::All)).may_use(99));
        assert!(Actor::System.may_use(99));
        assert!(!Actor::Supplier { via: "x".into() }.may_use(1));
        assert!(!Actor::Anonymous { claimed: None }.may_use(1));
    }

    #[test]
    fn only_managers_and_admins_manage() {
        assert!(Actor::User(person(Role::Manager, Places::All)).manages());
        assert!(!Actor::User(person(Role::Staff, Places::All)).manages());
        assert!(!Actor::System.manages());
    }
}
