//! A business rule saying no: a stable code that API clients and logs
//! match on, and the sentence a person reads.
//!
//! Each capability declares the codes it can refuse with as constants (and
//! lists them in its `REFUSALS`), so the full set is known without running
//! anything: the HTTP layer maps a refusal's [`Kind`] to a status, the
//! OpenAPI document lists every code, and a test holds `docs/errors.md` to
//! the same list.

/// What sort of "no" it is; the web layer turns it into a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is well formed but the records' state forbids it now
    /// (HTTP 409).
    Conflict,
    /// The one asking may not do this to this record, whatever its state
    /// (HTTP 403).
    NotPermitted,
    /// The request names something the one asking may not use, such as a
    /// location outside their access; the refusal names the field, as a
    /// validation problem would (HTTP 422).
    NotUsable,
}

/// One stable code: what clients match on, what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// Lower-case words joined by `-`, e.g. `order-not-approvable-by-submitter`.
    pub code: &'static str,
    pub kind: Kind,
    /// One sentence for the documentation.
    pub meaning: &'static str,
}

impl Code {
    pub const fn conflict(code: &'static str, meaning: &'static str) -> Code {
        Code {
            code,
            kind: Kind::Conflict,
            meaning,
        }
    }

    pub const fn not_permitted(code: &'static str, meaning: &'static str) -> Code {
        Code {
            code,
            kind: Kind::NotPermitted,
            meaning,
        }
    }

    pub const fn not_usable(code: &'static str, meaning: &'static str) -> Code {
        Code {
            code,
            kind: Kind::NotUsable,
            meaning,
        }
    }
}

/// A refusal as it happened: its code and the sentence for this case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub code: Code,
    pub message: String,
    /// The input field that named what is refused, when one did.
    pub field: Option<String>,
}

impl Refusal {
    pub fn new(code: Code, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A refusal of what the input's `field` names.
    pub fn on_field(code: Code, field: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            field: Some(field.to_string()),
            ..Refusal::new(code, message)
        }
    }
}

/// Whether `code` is a well-formed stable code: lower-case ASCII words
/// joined by single hyphens.
pub fn well_formed(code: &str) -> bool {
    !code.is_empty()
        && code.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lower_case_words_joined_by_hyphens() {
        assert!(well_formed("order-not-approvable-by-submitter"));
        assert!(well_formed("x12-envelope"));
        for bad in ["", "Order", "a--b", "-a", "a-", "a_b", "a b"] {
            assert!(!well_formed(bad), "{bad:?}");
        }
    }
}
