//! Password hashing with argon2id at OWASP's recommended parameters
//! (19 MiB memory, 2 iterations, 1 lane). Slow on purpose: callers run it on
//! the blocking pool.

use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::domain::NewPassword;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &NewPassword) -> String {
    hasher()
        .hash_password(password.expose().as_bytes())
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Hashes a secret stockroom generated itself (a recovery code) with the
/// same argon2id parameters as passwords.
pub fn hash_secret(secret: &str) -> String {
    hasher()
        .hash_password(secret.as_bytes())
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// True when `candidate` matches `stored`. An unparsable stored hash never matches.
pub fn verify(candidate: &str, stored: &str) -> bool {
    hasher()
        .verify_password(candidate.as_bytes(), stored)
        .is_ok()
}

/// Spends the same time as a real check, for usernames that don't exist, so
/// response time does not reveal which usernames do.
pub fn verify_dummy(candidate: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        hash(&NewPassword::parse("timing-equaliser-not-a-login", "nobody").expect("valid"))
    });
    let _ = verify(candidate, &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let pw = NewPassword::parse("gauze-trolley-ampoule-7", "anna").unwrap();
        let h = hash(&pw);
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("gauze-trolley-ampoule-7", &h));
        assert!(!verify("gauze-trolley-ampoule-8", &h));
        assert!(!verify("gauze-trolley-ampoule-7", "not a hash"));
        assert_ne!(h, hash(&pw), "salted");
        // The timing stand-in for unknown users must itself be valid.
        verify_dummy("anything");
    }
}
