//! Usernames: what people type at the login form.

use std::fmt;

/// A username, already normalised to lower case so that `Anna` and `anna`
/// are the same account (and the same lock-out counter).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameProblem {
    #[error("must be 2 to 64 characters long")]
    Length,
    #[error("may contain only letters a-z, digits and . _ -")]
    Characters,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, UsernameProblem> {
        let name = raw.trim().to_lowercase();
        if !(2..=64).contains(&name.chars().count()) {
            return Err(UsernameProblem::Length);
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(UsernameProblem::Characters);
        }
        Ok(Username(name))
    }

    /// The lock-out key for whatever someone typed, valid username or not, so
    /// that refusals look the same for names that do and don't exist.
    pub fn lockout_key(raw: &str) -> String {
        raw.trim().to_lowercase().chars().take(128).collect()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(Username::parse("  Anna.B ").unwrap().as_str(), "anna.b");
    }

    #[test]
    fn refuses_bad_names() {
        assert_eq!(Username::parse("a"), Err(UsernameProblem::Length));
        assert_eq!(
            Username::parse(&"a".repeat(65)),
            Err(UsernameProblem::Length)
        );
        assert_eq!(Username::parse("anna b"), Err(UsernameProblem::Characters));
        assert_eq!(
            Username::parse("<script>"),
            Err(UsernameProblem::Characters)
        );
    }

    proptest! {
        #[test]
        fn parsed_names_are_always_safe(raw in ".{0,80}") {
            if let Ok(u) = Username::parse(&raw) {
                prop_assert!(u.as_str().chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)));
                prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u);
            }
        }
    }
}
