//! Barcode scans: what a keyboard-wedge scanner typed, turned into item
//! identity (GTIN or HIBCC code), lot, serial and expiry.
//!
//! Accepts GS1 element strings (FNC1 as the ASCII group separator 0x1D, an
//! optional symbology identifier such as `]d2`, `]C1`, `]Q3`), the
//! human-readable form with AIs in parentheses, plain EAN-8/UPC-A/EAN-13/
//! GTIN-14 numbers, GS1 Digital Link URIs and HIBCC UDI labels. Pure: no I/O;
//! the caller supplies the reference year that decides two-digit centuries.

pub mod ais;
pub mod digital_link;
pub mod gs1;
pub mod gtin;
pub mod hibcc;

use serde::Serialize;
use time::Date;

pub use gs1::Element;
pub use gtin::{Gtin, GtinProblem};
pub use hibcc::Hibcc;

/// Longer input is not a barcode a scanner typed.
pub const MAX_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanProblem {
    #[error("nothing was scanned")]
    Empty,
    #[error("is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("has an unknown application identifier {text:?} at position {position}")]
    UnknownAi { position: usize, text: String },
    #[error("AI ({ai}) {problem}")]
    BadValue { ai: String, problem: String },
    #[error("AI ({0}) appears twice with different values")]
    Duplicate(String),
    #[error("{0}")]
    Malformed(&'static str),
    #[error("HIBCC check character is {found:?}, expected {expected:?}: the code was misread")]
    CheckCharacter { expected: char, found: char },
    #[error("GTIN {0}")]
    Gtin(#[from] GtinProblem),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// GS1-128, GS1 DataMatrix, GS1 QR: AIs with FNC1 separators.
    Gs1ElementString,
    /// `(01)…(17)…` as printed under a barcode or typed by hand.
    Gs1HumanReadable,
    Gs1DigitalLink,
    /// EAN-8, UPC-A, EAN-13 or ITF-14: a GTIN and nothing else.
    PlainGtin,
    Hibcc,
}

/// Everything a scan says about the item in hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Scan {
    pub format: Format,
    /// The symbology identifier the scanner sent (`]d2` …), if any.
    pub symbology: Option<String>,
    pub gtin: Option<Gtin>,
    /// AI 02: the GTIN of the items inside a logistic unit.
    pub content_gtin: Option<Gtin>,
    pub sscc: Option<String>,
    pub lot: Option<String>,
    pub serial: Option<String>,
    #[serde(serialize_with = "iso_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub expiry: Option<Date>,
    #[serde(serialize_with = "iso_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub best_before: Option<Date>,
    #[serde(serialize_with = "iso_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub production_date: Option<Date>,
    /// AI 30 (variable count) or 37 (count of trade items).
    pub quantity: Option<u32>,
    /// AI 240: additional product identification (often the catalogue number).
    pub additional_id: Option<String>,
    pub hibcc: Option<Hibcc>,
    /// Every GS1 element, as read.
    pub elements: Vec<Element>,
}

pub(crate) fn iso_date<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

impl Scan {
    fn empty(format: Format, symbology: Option<String>) -> Scan {
        Scan {
            format,
            symbology,
            gtin: None,
            content_gtin: None,
            sscc: None,
            lot: None,
            serial: None,
            expiry: None,
            best_before: None,
            production_date: None,
            quantity: None,
            additional_id: None,
            hibcc: None,
            elements: Vec::new(),
        }
    }
}

/// What names a pack when it is scanned: its GTIN, or the identity of its
/// HIBCC primary label (labeler, product number, unit of measure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackCode {
    Gtin(Gtin),
    Hibcc(String),
}

impl PackCode {
    /// The pack a scan names, if it names one: a HIBCC secondary label
    /// (lot, expiry or serial only) does not.
    pub fn of(scan: &Scan) -> Option<PackCode> {
        if let Some(g) = &scan.gtin {
            return Some(PackCode::Gtin(g.clone()));
        }
        scan.hibcc.as_ref()?.identity().map(PackCode::Hibcc)
    }

    /// A typed or scanned barcode that has to name a pack: a GTIN (8 to 14
    /// digits) or a HIBCC primary label (`+…` with its check character).
    pub fn parse(input: &str, reference_year: i32) -> Result<PackCode, String> {
        let input = input.trim();
        if !hibcc::looks_like_hibcc(input) {
            return Gtin::parse(input)
                .map(PackCode::Gtin)
                .map_err(|e| e.to_string());
        }
        let h = hibcc::parse(input, reference_year).map_err(|e| e.to_string())?;
        h.identity().map(PackCode::Hibcc).ok_or_else(|| {
            "is a HIBCC secondary label (lot, expiry or serial only); scan the label with the product number"
                .to_string()
        })
    }

    /// The code as people see it and as links carry it: the GTIN's digits,
    /// or the HIBCC primary label. [`PackCode::parse`] reads it back.
    pub fn display(&self) -> String {
        match self {
            PackCode::Gtin(g) => g.display().to_string(),
            PackCode::Hibcc(identity) => hibcc::primary_label(identity),
        }
    }

    /// The value for links and hidden fields (the GTIN without spaces).
    pub fn key(&self) -> String {
        match self {
            PackCode::Gtin(g) => g.as_str().to_string(),
            PackCode::Hibcc(identity) => hibcc::primary_label(identity),
        }
    }
}

/// Parses whatever a scanner typed (a trailing Enter is ignored).
/// `reference_year` is this year in the practice's time zone.
pub fn parse(raw: &str, reference_year: i32) -> Result<Scan, ScanProblem> {
    let text = raw.trim_matches(|c: char| c == '\r' || c == '\n' || c == ' ' || c == '\t');
    if text.is_empty() {
        return Err(ScanProblem::Empty);
    }
    if text.len() > MAX_LEN {
        return Err(ScanProblem::TooLong);
    }
    let (symbology, body) = match text.strip_prefix(']') {
        Some(rest) if rest.is_char_boundary(2.min(rest.len())) && rest.len() > 2 => {
            (Some(format!("]{}", &rest[..2])), &rest[2..])
        }
        Some(_) => {
            return Err(ScanProblem::Malformed(
                "a symbology identifier with no data",
            ));
        }
        None => (None, text),
    };
    let body = gs1::normalise_separators(body);

    if digital_link::looks_like_digital_link(&body) {
        let elements = digital_link::parse(&body)?;
        return from_elements(Format::Gs1DigitalLink, symbology, elements, reference_year);
    }
    if hibcc::looks_like_hibcc(&body) {
        let h = hibcc::parse(&body, reference_year)?;
        let mut scan = Scan::empty(Format::Hibcc, symbology);
        scan.lot = h.lot.clone();
        scan.serial = h.serial.clone();
        scan.expiry = h.expiry;
        scan.hibcc = Some(h);
        return Ok(scan);
    }
    if body.starts_with('(') {
        let elements = gs1::parse_bracketed(&body)?;
        return from_elements(
            Format::Gs1HumanReadable,
            symbology,
            elements,
            reference_year,
        );
    }
    let plain = body.bytes().all(|b| b.is_ascii_digit()) && [8, 12, 13, 14].contains(&body.len());
    if plain {
        let mut scan = Scan::empty(Format::PlainGtin, symbology);
        scan.gtin = Some(Gtin::parse(&body)?);
        return Ok(scan);
    }
    let elements = gs1::parse_element_string(&body)?;
    from_elements(
        Format::Gs1ElementString,
        symbology,
        elements,
        reference_year,
    )
}

fn from_elements(
    format: Format,
    symbology: Option<String>,
    elements: Vec<Element>,
    reference_year: i32,
) -> Result<Scan, ScanProblem> {
    let mut scan = Scan::empty(format, symbology);
    for (i, e) in elements.iter().enumerate() {
        if elements[..i]
            .iter()
            .any(|o| o.ai == e.ai && o.value != e.value)
        {
            return Err(ScanProblem::Duplicate(e.ai.clone()));
        }
        let date = || {
            gs1::yymmdd(&e.value, reference_year).map_err(|problem| ScanProblem::BadValue {
                ai: e.ai.clone(),
                problem,
            })
        };
        match e.ai.as_str() {
            "01" => scan.gtin = Some(Gtin::parse(&e.value)?),
            "02" => scan.content_gtin = Some(Gtin::parse(&e.value)?),
            "00" => scan.sscc = Some(e.value.clone()),
            "10" => scan.lot = Some(e.value.clone()),
            "21" => scan.serial = Some(e.value.clone()),
            "17" => scan.expiry = Some(date()?),
            "15" => scan.best_before = Some(date()?),
            "11" => scan.production_date = Some(date()?),
            "30" | "37" => scan.quantity = e.value.parse().ok(),
            "240" => scan.additional_id = Some(e.value.clone()),
            _ => {}
        }
    }
    scan.elements = elements;
    Ok(scan)
}

#[cfg(test)]
mod tests;
