//! ANSI X12, version 004010, for suppliers who trade by EDI: the purchase
//! order stockroom sends (850) and the acknowledgments (855) and ship
//! notices (856) a supplier sends back. Pure text in, text out — no
//! database, no files — so the channel that moves the files, and the
//! control numbers it must store and increment, stay with the caller.
//!
//! What stockroom writes: `*` between elements, `>` between components
//! (ISA16), `U` in ISA11 (004010 has no repetition separator), and `~`
//! after every segment followed by a newline, which X12 readers skip and
//! which keeps the file readable for a person. Free text (names, item
//! descriptions, notes) is cleaned so it can never contain a separator,
//! and cut to each element's maximum length.
//!
//! What stockroom reads: whatever separators the sender's ISA header
//! declares, newlines or CRLF after segments, and only files whose
//! envelope adds up (control numbers and counts of ISA/IEA, GS/GE, ST/SE);
//! anything else is refused whole with a reason a practice admin can act
//! on, rather than half read.

mod read;
mod syntax;
mod write;

#[cfg(test)]
pub(crate) mod tests;

use serde::{Deserialize, Serialize};

use crate::validation::FieldErrors;

pub use read::{Ack855, AckLine, Inbound, LineStatus, Ship856, ShipLine, parse, parse_from};
pub use write::{cancellation_850, purchase_order_850};

/// Interchange id qualifiers (ISA05/ISA07) of X12 004010, e.g. 01 DUNS,
/// 08 UCC communications id, 12 telephone, 14 DUNS with suffix, 16 DUNS
/// with 4-character suffix, ZZ mutually defined.
pub const QUALIFIERS: [&str; 34] = [
    "01", "02", "03", "04", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "NR",
    "SN", "ZZ",
];

fn default_qualifier() -> String {
    "ZZ".into()
}

/// How one supplier trades by EDI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = EdiX12ChannelSettings)]
pub struct Settings {
    /// ISA05: what kind of id `sender_id` is (ZZ = agreed with the supplier).
    #[serde(default = "default_qualifier")]
    pub sender_qualifier: String,
    /// ISA06 and GS02: the practice's id, as agreed with the supplier.
    pub sender_id: String,
    /// ISA07: what kind of id `receiver_id` is.
    #[serde(default = "default_qualifier")]
    pub receiver_qualifier: String,
    /// ISA08 and GS03: the supplier's id.
    pub receiver_id: String,
    /// Where orders go: a folder name inside the configured folder root.
    pub folder: String,
    /// Where the supplier leaves acknowledgments and ship notices: a folder
    /// name inside the configured folder root; empty when it sends none.
    #[serde(default)]
    pub inbox: String,
    /// Marks interchanges as test data (ISA15 `T` rather than `P`).
    #[serde(default)]
    pub test: bool,
    /// Instead of the folder: the supplier's EDI mailbox(es), to which each
    /// interchange is emailed as an attachment (up to five addresses).
    #[serde(default)]
    pub email_to: Vec<String>,
}

impl Settings {
    /// Every problem, each under its field.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        for (field, value) in [
            ("sender_qualifier", &self.sender_qualifier),
            ("receiver_qualifier", &self.receiver_qualifier),
        ] {
            if !QUALIFIERS.contains(&value.as_str()) {
                errors.add(
                    field,
                    format!(
                        "{value:?} is not an X12 id qualifier: use one of {} (ZZ when agreed with the supplier)",
                        QUALIFIERS.join(", ")
                    ),
                );
            }
        }
        for (field, value) in [
            ("sender_id", &self.sender_id),
            ("receiver_id", &self.receiver_id),
        ] {
            if let Err(message) = interchange_id(value) {
                errors.add(field, message);
            }
        }
        // The same rule as the CSV folder's, so both channels agree on
        // what a folder name is.
        let folder = |name: &str| {
            super::csv_folder::Settings {
                folder: name.to_string(),
                columns: Vec::new(),
            }
            .validate()
        };
        if self.email_to.is_empty() {
            if let Err(e) = folder(&self.folder) {
                errors.0.extend(e.0);
            }
        } else {
            let email = super::email::Settings {
                to: self.email_to.clone(),
                cc: Vec::new(),
            };
            if let Err(e) = email.validate() {
                errors.0.extend(e.renamed("to", "email_to").0);
            }
            if !self.folder.trim().is_empty()
                && let Err(e) = folder(&self.folder)
            {
                errors.0.extend(e.0);
            }
        }
        if !self.inbox.trim().is_empty() {
            if let Err(e) = folder(&self.inbox) {
                errors.0.extend(e.renamed("folder", "inbox").0);
            } else if self.inbox.trim() == self.folder.trim() {
                errors.add(
                    "inbox",
                    "must differ from the folder orders are written to, or stockroom would read its own orders back",
                );
            }
        }
        errors.into_result()
    }
}

/// An interchange id: 1 to 15 capital letters, digits or X12 basic
/// punctuation, without spaces or the separators stockroom writes.
fn interchange_id(value: &str) -> Result<(), String> {
    let ok = |c: char| {
        c.is_ascii_uppercase()
            || c.is_ascii_digit()
            || matches!(
                c,
                '!' | '&' | '\'' | '(' | ')' | '+' | ',' | '-' | '.' | '/' | ':' | ';' | '?' | '='
            )
    };
    if value.is_empty() || value.len() > 15 || !value.chars().all(ok) {
        return Err(
            "must be 1 to 15 characters: capital letters A-Z, digits and - . / : ( ) + , ! & ' ; ? =, without spaces"
                .into(),
        );
    }
    Ok(())
}

/// Control numbers for one interchange holding one group holding one
/// transaction set. The caller stores and increments them; each is sent
/// modulo 10⁹ so it always fits its nine digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Controls {
    /// ISA13 / IEA02, 1..=999_999_999, sent as nine digits.
    pub interchange: u32,
    /// GS06 / GE02.
    pub group: u32,
    /// ST02 / SE02, sent with at least four digits.
    pub transaction: u32,
}

/// Why an X12 file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X12Error {
    /// Not X12 at all (or its ISA header is unreadable).
    #[error("this is not an X12 file: {0}")]
    NotX12(String),
    /// Control numbers or counts that do not match: a file cut short,
    /// joined from two, or edited by hand.
    #[error("the X12 envelope does not add up: {0}")]
    Envelope(String),
    /// A well-formed file whose content stockroom cannot use.
    #[error("the X12 content cannot be used: {0}")]
    Content(String),
}

impl X12Error {
    /// A stable code for logs and JSON.
    pub fn code(&self) -> &'static str {
        match self {
            X12Error::NotX12(_) => "x12-not-x12",
            X12Error::Envelope(_) => "x12-envelope",
            X12Error::Content(_) => "x12-content",
        }
    }
}
