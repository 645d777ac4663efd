//! HIBCC UDI labels (ANSI/HIBC 2.6): `+` labeler (4) product (1-18) unit of
//! measure (1), optionally `/` secondary data (lot, serial, expiry), then a
//! modulo-43 check character over everything before it.

use time::{Date, Month};

use super::ScanProblem;

const CHARSET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Hibcc {
    /// Labeler identification code (LIC), 4 characters.
    pub labeler: Option<String>,
    /// The labeler's product or catalogue number.
    pub product: Option<String>,
    /// Packaging level, 0 (each) to 9.
    pub unit_of_measure: Option<u8>,
    pub lot: Option<String>,
    pub serial: Option<String>,
    #[serde(serialize_with = "super::iso_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub expiry: Option<Date>,
}

impl Hibcc {
    /// What names the product at one packaging level: labeler, product
    /// number and unit of measure ("A123BJC5D6E71"). `None` for a label
    /// that carries only secondary data (lot, expiry, serial).
    pub fn identity(&self) -> Option<String> {
        Some(format!(
            "{}{}{}",
            self.labeler.as_ref()?,
            self.product.as_ref()?,
            self.unit_of_measure?
        ))
    }
}

/// The primary label a scanner types for `identity`: `+`, the identity and
/// its check character. [`parse`] reads it back.
pub fn primary_label(identity: &str) -> String {
    let data = format!("+{identity}");
    match check_char(&data) {
        Some(c) => format!("{data}{c}"),
        None => data,
    }
}

pub fn looks_like_hibcc(input: &str) -> bool {
    input.starts_with('+') && input.len() >= 3
}

fn value_of(c: char) -> Option<u32> {
    CHARSET.find(c).map(|i| i as u32)
}

pub fn check_char(data: &str) -> Option<char> {
    let mut sum = 0;
    for c in data.chars() {
        sum += value_of(c)?;
    }
    CHARSET.chars().nth((sum % 43) as usize)
}

pub fn parse(input: &str, reference_year: i32) -> Result<Hibcc, ScanProblem> {
    let input = input.trim().to_ascii_uppercase();
    if input.chars().any(|c| value_of(c).is_none()) {
        return Err(ScanProblem::Malformed(
            "contains a character HIBCC does not use",
        ));
    }
    let (data, check) = input.split_at(input.len() - 1);
    let expected = check_char(data).ok_or(ScanProblem::Malformed("not a HIBCC code"))?;
    if !check.starts_with(expected) {
        return Err(ScanProblem::CheckCharacter {
            expected,
            found: check.chars().next().unwrap_or(' '),
        });
    }
    let body = &data[1..];
    let mut out = Hibcc::default();
    // A secondary-only label starts with `$` or a Julian date; concatenated
    // primary and secondary are joined by `/`.
    let julian_first = body.len() > 5 && body.bytes().take(5).all(|b| b.is_ascii_digit());
    let secondary = if body.starts_with('$') || julian_first {
        // Standalone secondary data ends with a link character to the primary.
        Some(&body[..body.len().saturating_sub(1)])
    } else {
        let (primary, secondary) = match body.split_once('/') {
            Some((p, s)) => (p, Some(s)),
            None => (body, None),
        };
        parse_primary(primary, &mut out)?;
        secondary
    };
    if let Some(s) = secondary.filter(|s| !s.is_empty()) {
        parse_secondary(s, reference_year, &mut out)?;
    }
    Ok(out)
}

fn parse_primary(p: &str, out: &mut Hibcc) -> Result<(), ScanProblem> {
    if p.len() < 6 || !p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return Err(ScanProblem::Malformed(
            "a HIBCC primary code is a labeler code starting with a letter, a product number and a unit of measure",
        ));
    }
    let (labeler, rest) = p.split_at(4);
    let (product, uom) = rest.split_at(rest.len() - 1);
    if product.is_empty()
        || product.len() > 18
        || !product.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(ScanProblem::Malformed(
            "the HIBCC product number must be 1 to 18 letters or digits",
        ));
    }
    out.labeler = Some(labeler.to_string());
    out.product = Some(product.to_string());
    out.unit_of_measure = uom.parse().ok();
    if out.unit_of_measure.is_none() {
        return Err(ScanProblem::Malformed(
            "the HIBCC unit of measure must be a digit",
        ));
    }
    Ok(())
}

fn parse_secondary(s: &str, reference_year: i32, out: &mut Hibcc) -> Result<(), ScanProblem> {
    let (rest, is_serial) = if let Some(r) = s.strip_prefix("$$+") {
        (expiry(r, reference_year, out)?, true)
    } else if let Some(r) = s.strip_prefix("$+") {
        (r, true)
    } else if let Some(r) = s.strip_prefix("$$") {
        (expiry(r, reference_year, out)?, false)
    } else if let Some(r) = s.strip_prefix('$') {
        (r, false)
    } else {
        // Older form: a five-digit Julian date (YYJJJ), then the lot.
        let date = s
            .get(..5)
            .ok_or(ScanProblem::Malformed("HIBCC secondary data is too short"))?;
        out.expiry = Some(julian(date, reference_year)?);
        (&s[5..], false)
    };
    let value = rest.trim();
    if value.len() > 18 {
        return Err(ScanProblem::Malformed(
            "a HIBCC lot or serial number has at most 18 characters",
        ));
    }
    if !value.is_empty() {
        if is_serial {
            out.serial = Some(value.to_string());
        } else {
            out.lot = Some(value.to_string());
        }
    }
    Ok(())
}

/// Reads the expiry that follows `$$` and returns what comes after it.
fn expiry<'a>(s: &'a str, reference_year: i32, out: &mut Hibcc) -> Result<&'a str, ScanProblem> {
    let bad = || ScanProblem::Malformed("the HIBCC expiry date is not valid");
    let digits = |r: std::ops::Range<usize>| -> Result<i32, ScanProblem> {
        s.get(r)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .ok_or_else(bad)
    };
    let year = |yy: i32| {
        super::gs1::yymmdd(&format!("{yy:02}0101"), reference_year)
            .map(|d| d.year())
            .map_err(|_| bad())
    };
    let date = |y: i32, m: i32, d: i32| -> Result<Date, ScanProblem> {
        let month = Month::try_from(m as u8).map_err(|_| bad())?;
        let d = if d == 0 {
            time::util::days_in_month(month, y)
        } else {
            d as u8
        };
        Date::from_calendar_date(y, month, d).map_err(|_| bad())
    };
    let first = s.chars().next().ok_or_else(bad)?;
    let (when, used) = match first {
        // MMYY: the first digit of the month is the format indicator itself.
        '0' | '1' => (Some(date(year(digits(2..4)?)?, digits(0..2)?, 0)?), 4),
        '2' => (
            Some(date(year(digits(5..7)?)?, digits(1..3)?, digits(3..5)?)?),
            7,
        ),
        '3' => (
            Some(date(year(digits(1..3)?)?, digits(3..5)?, digits(5..7)?)?),
            7,
        ),
        '4' => (
            Some(date(year(digits(1..3)?)?, digits(3..5)?, digits(5..7)?)?),
            9,
        ),
        '5' => (
            Some(julian(s.get(1..6).ok_or_else(bad)?, reference_year)?),
            6,
        ),
        '6' => (
            Some(julian(s.get(1..6).ok_or_else(bad)?, reference_year)?),
            8,
        ),
        '7' => (None, 1),
        _ => {
            return Err(ScanProblem::Malformed(
                "HIBCC quantity formats are not supported",
            ));
        }
    };
    out.expiry = when;
    s.get(used..).ok_or_else(bad)
}

fn julian(s: &str, reference_year: i32) -> Result<Date, ScanProblem> {
    let bad = || ScanProblem::Malformed("the HIBCC Julian date is not valid");
    if s.len() != 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let yy: i32 = s[..2].parse().map_err(|_| bad())?;
    let day: u16 = s[2..].parse().map_err(|_| bad())?;
    let year = super::gs1::yymmdd(&format!("{yy:02}0101"), reference_year)
        .map_err(|_| bad())?
        .year();
    Date::from_ordinal_date(year, day).map_err(|_| bad())
}
