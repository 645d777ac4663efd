//! GTINs (EAN-8, UPC-A, EAN-13, GTIN-14) with check-digit validation.

use std::fmt;

/// A GTIN, stored as its 14-digit form (shorter GTINs padded with leading
/// zeros), so that `0 12345 67890 5` from a UPC-A label and
/// `00012345678905` from a GS1 DataMatrix are the same item.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = String, example = "09506000134352")]
pub struct Gtin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinProblem {
    #[error("must be 8, 12, 13 or 14 digits, got {0} characters")]
    Length(usize),
    #[error("may contain only digits")]
    NotDigits,
    #[error("check digit is {found}, expected {expected}: the number was mistyped or misread")]
    CheckDigit { found: u8, expected: u8 },
}

/// The GS1 mod-10 check digit for `digits` (without the check digit).
pub fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Gtin {
    pub fn parse(raw: &str) -> Result<Gtin, GtinProblem> {
        let text: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(GtinProblem::NotDigits);
        }
        if ![8, 12, 13, 14].contains(&text.len()) {
            return Err(GtinProblem::Length(text.chars().count()));
        }
        let digits: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
        let (body, last) = digits.split_at(digits.len() - 1);
        let expected = check_digit(body);
        if last[0] != expected {
            return Err(GtinProblem::CheckDigit {
                found: last[0],
                expected,
            });
        }
        Ok(Gtin(format!("{text:0>14}")))
    }

    /// The 14-digit form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shortest usual form: EAN-13 when the first digit is 0, else GTIN-14.
    pub fn display(&self) -> &str {
        self.0.strip_prefix('0').unwrap_or(&self.0)
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
