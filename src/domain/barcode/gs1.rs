//! GS1 element strings: the concatenated form scanners send (FNC1 shown as
//! the ASCII group separator, 0x1D) and the human-readable form printed
//! under barcodes, with the AIs in parentheses.

use time::{Date, Month};

use super::ScanProblem;
use super::ais::{self, Kind};
use super::gtin::{Gtin, check_digit};

/// The FNC1 / group separator a scanner transmits between fields.
pub const GS: char = '\u{1d}';

/// One application identifier and its data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Element {
    pub ai: String,
    pub value: String,
}

/// Some scanners and terminals show GS as the visible symbol ␝ or as text.
pub fn normalise_separators(input: &str) -> String {
    input
        .replace("<GS>", "\u{1d}")
        .replace('\u{241d}', "\u{1d}")
}

/// Splits a concatenated element string (after any symbology identifier).
pub fn parse_element_string(input: &str) -> Result<Vec<Element>, ScanProblem> {
    let mut out = Vec::new();
    let mut rest = input.trim_start_matches(GS);
    while !rest.is_empty() {
        let position = input.len() - rest.len();
        let (ai, n) = ais::lookup_prefix(rest).ok_or_else(|| ScanProblem::UnknownAi {
            position,
            text: rest.chars().take(4).collect(),
        })?;
        let code = rest[..n].to_string();
        rest = &rest[n..];
        let value: &str = if ai.fixed {
            let value = rest
                .get(..ai.len)
                .filter(|v| !v.contains(GS))
                .ok_or_else(|| ScanProblem::BadValue {
                    ai: code.clone(),
                    problem: format!("needs exactly {} characters", ai.len),
                })?;
            rest = &rest[ai.len..];
            value
        } else {
            let end = rest.find(GS).unwrap_or(rest.len());
            let value = &rest[..end];
            rest = &rest[end..];
            value
        };
        rest = rest.strip_prefix(GS).unwrap_or(rest);
        validate(&code, value)?;
        out.push(Element {
            ai: code,
            value: value.to_string(),
        });
    }
    if out.is_empty() {
        return Err(ScanProblem::Empty);
    }
    Ok(out)
}

/// Parses `(01)09506000134352(17)201231(10)ABC123`.
pub fn parse_bracketed(input: &str) -> Result<Vec<Element>, ScanProblem> {
    let mut out = Vec::new();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(').ok_or(ScanProblem::Malformed(
            "expected an application identifier in parentheses",
        ))?;
        let close = inner.find(')').ok_or(ScanProblem::Malformed(
            "an opening parenthesis is not closed",
        ))?;
        let code = &inner[..close];
        rest = &inner[close + 1..];
        // The value runs to the next "(NN)"-style identifier.
        let end = next_bracketed_ai(rest).unwrap_or(rest.len());
        let value = rest[..end].trim();
        rest = &rest[end..];
        if ais::lookup(code).is_none() {
            return Err(ScanProblem::UnknownAi {
                position: input.len() - inner.len() - 1,
                text: code.to_string(),
            });
        }
        validate(code, value)?;
        out.push(Element {
            ai: code.to_string(),
            value: value.to_string(),
        });
    }
    if out.is_empty() {
        return Err(ScanProblem::Empty);
    }
    Ok(out)
}

fn next_bracketed_ai(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| {
        bytes[i] == b'('
            && (3..=5).any(|n| {
                bytes
                    .get(i + 1..i + n)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
                    && bytes.get(i + n) == Some(&b')')
            })
    })
}

/// Checks one element's data against its AI's rules.
pub fn validate(code: &str, value: &str) -> Result<(), ScanProblem> {
    let ai = ais::lookup(code).ok_or_else(|| ScanProblem::UnknownAi {
        position: 0,
        text: code.to_string(),
    })?;
    let bad = |problem: String| ScanProblem::BadValue {
        ai: code.to_string(),
        problem,
    };
    let len = value.chars().count();
    if ai.fixed && len != ai.len {
        return Err(bad(format!(
            "needs exactly {} characters, got {len}",
            ai.len
        )));
    }
    if !ai.fixed && (len == 0 || len > ai.len) {
        return Err(bad(format!("needs 1 to {} characters, got {len}", ai.len)));
    }
    match ai.kind {
        Kind::Numeric | Kind::Date if !value.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(bad("may contain only digits".into()));
        }
        Kind::Alphanumeric if !value.chars().all(ais::is_cset82) => {
            return Err(bad("contains a character GS1 does not allow".into()));
        }
        _ => {}
    }
    match code {
        "01" | "02" => {
            Gtin::parse(value).map_err(|e| bad(format!("GTIN {e}")))?;
        }
        "00" => {
            let digits: Vec<u8> = value.bytes().map(|b| b - b'0').collect();
            if check_digit(&digits[..17]) != digits[17] {
                return Err(bad("SSCC check digit is wrong".into()));
            }
        }
        _ if ai.kind == Kind::Date => {
            // Century does not matter for validity; 2000 is a leap year.
            yymmdd(value, 2000).map_err(bad)?;
        }
        _ => {}
    }
    Ok(())
}

/// A GS1 date `YYMMDD`. `DD` = `00` means the last day of the month. The
/// century follows GS1 General Specifications 7.12: the year closest to
/// `reference_year`, looking at most 49 years back and 50 ahead.
pub fn yymmdd(value: &str, reference_year: i32) -> Result<Date, String> {
    let num = |r: std::ops::Range<usize>| -> Result<u8, String> {
        value
            .get(r)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "is not a date in YYMMDD form".to_string())
    };
    if value.len() != 6 {
        return Err("is not a date in YYMMDD form".into());
    }
    let (yy, mm, dd) = (num(0..2)?, num(2..4)?, num(4..6)?);
    let year = full_year(i32::from(yy), reference_year);
    let month =
        Month::try_from(mm).map_err(|_| format!("has month {mm:02}, which does not exist"))?;
    let day = if dd == 0 {
        time::util::days_in_month(month, year)
    } else {
        dd
    };
    Date::from_calendar_date(year, month, day)
        .map_err(|_| format!("has day {dd:02}, which {month} {year} does not have"))
}

fn full_year(yy: i32, reference_year: i32) -> i32 {
    let current_yy = reference_year.rem_euclid(100);
    let century = reference_year - current_yy;
    match yy - current_yy {
        51..=99 => century - 100 + yy,
        -99..=-50 => century + 100 + yy,
        _ => century + yy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn century_follows_the_sliding_window() {
        assert_eq!(full_year(26, 2026), 2026);
        assert_eq!(full_year(76, 2026), 2076, "50 years ahead");
        assert_eq!(full_year(77, 2026), 1977, "51 years ahead is the past");
        assert_eq!(full_year(99, 2026), 1999);
        assert_eq!(full_year(1, 2075), 2101, "-74 years is the next century");
    }

    #[test]
    fn day_zero_is_the_last_day_of_the_month() {
        assert_eq!(yymmdd("240200", 2026).unwrap().to_string(), "2024-02-29");
        assert_eq!(yymmdd("250200", 2026).unwrap().to_string(), "2025-02-28");
        assert_eq!(yymmdd("261100", 2026).unwrap().to_string(), "2026-11-30");
        assert!(yymmdd("261301", 2026).unwrap_err().contains("month 13"));
        assert!(yymmdd("250230", 2026).unwrap_err().contains("day 30"));
    }
}
