//! The password policy for new passwords (NIST SP 800-63B style): long,
//! not a known common password, not the username. No composition rules.

static COMMON: &str = include_str!("common_passwords.txt");

pub const MIN_LENGTH: usize = 12;
/// Bounds the work one request can make argon2 do.
pub const MAX_LENGTH: usize = 256;

/// A password that passed the policy; only ever hashed, never stored.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("must be at least {MIN_LENGTH} characters long")]
    TooShort,
    #[error("must be at most {MAX_LENGTH} characters long")]
    TooLong,
    #[error("is one of the most common passwords; choose another")]
    Common,
    #[error("must not contain the username")]
    ContainsUsername,
    #[error("must not be one character repeated")]
    Repetitive,
}

impl NewPassword {
    /// Checks `raw` for the account `username` (compared case-insensitively;
    /// an empty username skips that check).
    pub fn parse(raw: &str, username: &str) -> Result<Self, PasswordProblem> {
        let len = raw.chars().count();
        if len < MIN_LENGTH {
            return Err(PasswordProblem::TooShort);
        }
        if len > MAX_LENGTH {
            return Err(PasswordProblem::TooLong);
        }
        let lower = raw.to_lowercase();
        if COMMON.lines().any(|c| c == lower) {
            return Err(PasswordProblem::Common);
        }
        let username = username.trim().to_lowercase();
        if !username.is_empty() && lower.contains(&username) {
            return Err(PasswordProblem::ContainsUsername);
        }
        let first = raw.chars().next();
        if raw.chars().all(|c| Some(c) == first) {
            return Err(PasswordProblem::Repetitive);
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> &'static str {
        "anna"
    }

    #[test]
    fn accepts_a_long_uncommon_password() {
        assert!(NewPassword::parse("gauze-trolley-ampoule-7", user()).is_ok());
    }

    #[test]
    fn refuses_each_weak_kind() {
        let u = user();
        assert_eq!(
            NewPassword::parse("short1!", u).unwrap_err(),
            PasswordProblem::TooShort
        );
        assert_eq!(
            NewPassword::parse(&"x1".repeat(200), u).unwrap_err(),
            PasswordProblem::TooLong
        );
        assert_eq!(
            NewPassword::parse("Password1234", u).unwrap_err(),
            PasswordProblem::Common
        );
        assert_eq!(
            NewPassword::parse("anna-is-my-name-ok", u).unwrap_err(),
            PasswordProblem::ContainsUsername
        );
        assert_eq!(
            NewPassword::parse("zzzzzzzzzzzzzz", u).unwrap_err(),
            PasswordProblem::Repetitive
        );
    }

    #[test]
    fn common_list_entries_are_all_long_enough_to_matter() {
        for line in COMMON.lines() {
            assert!(
                line.chars().count() >= MIN_LENGTH,
                "{line} would be refused as too short anyway"
            );
            assert_eq!(line, line.to_lowercase());
        }
    }
}
