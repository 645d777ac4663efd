//! Who gets the daily digest and how far ahead it looks for expiring
//! stock: two rows of the `settings` table (`digest.recipients`, a
//! comma-separated list, and `digest.expiry_days`), set on the digest page
//! by the practice and audited like the practice's details. No recipients
//! means the digest is off.

use rusqlite::{Connection, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::NotifyError;
use crate::audit::Context;
use crate::validation::FieldErrors;

/// At most this many addresses get the digest.
pub const MAX_RECIPIENTS: usize = 10;
/// The expiry window when none was set.
pub const DEFAULT_EXPIRY_DAYS: u16 = 30;
/// The longest expiry window.
pub const MAX_EXPIRY_DAYS: u16 = 365;

const RECIPIENTS: &str = "digest.recipients";
const EXPIRY_DAYS: &str = "digest.expiry_days";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSettings {
    /// Empty: the digest is off.
    pub recipients: Vec<String>,
    /// Stock expiring within this many days (or already expired) is listed.
    pub expiry_days: u16,
}

impl Default for DigestSettings {
    fn default() -> Self {
        DigestSettings {
            recipients: Vec::new(),
            expiry_days: DEFAULT_EXPIRY_DAYS,
        }
    }
}

impl DigestSettings {
    /// The recipients as the form shows them.
    pub fn recipients_text(&self) -> String {
        self.recipients.join(", ")
    }
}

/// The settings as typed into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DigestInput {
    /// Addresses separated by commas, semicolons or lines.
    #[serde(default)]
    pub recipients: String,
    #[serde(default)]
    pub expiry_days: String,
}

/// The stored settings; defaults for what was never set.
pub fn get(conn: &Connection) -> rusqlite::Result<DigestSettings> {
    let mut out = DigestSettings::default();
    let mut stmt = conn.prepare_cached("SELECT key, value FROM settings WHERE key IN (?1, ?2)")?;
    let rows = stmt.query_map([RECIPIENTS, EXPIRY_DAYS], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (key, value) = row?;
        if key == RECIPIENTS {
            out.recipients = split(&value);
        } else if let Ok(days) = value.trim().parse::<u16>() {
            // Only `set` writes the row, so it holds a valid number.
            out.expiry_days = days;
        }
    }
    Ok(out)
}

/// Addresses from a text field: separated by commas, semicolons or lines.
fn split(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// Checks the input and returns the settings it describes; every problem
/// is named by the field it belongs to.
pub fn validate(input: &DigestInput) -> Result<DigestSettings, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut recipients: Vec<String> = Vec::new();
    for a in split(&input.recipients) {
        if a.parse::<lettre::Address>().is_err() {
            errors.add(
                "recipients",
                format!("{a:?} is not an email address such as manager@practice.example"),
            );
        } else if !recipients.iter().any(|r| r.eq_ignore_ascii_case(&a)) {
            recipients.push(a);
        }
    }
    if recipients.len() > MAX_RECIPIENTS {
        errors.add(
            "recipients",
            format!("takes at most {MAX_RECIPIENTS} addresses"),
        );
    }
    let expiry_days = match input.expiry_days.trim() {
        "" => DEFAULT_EXPIRY_DAYS,
        t => errors
            .check(
                "expiry_days",
                t.parse::<u16>()
                    .ok()
                    .filter(|d| (1..=MAX_EXPIRY_DAYS).contains(d))
                    .ok_or(format!(
                        "must be a number of days from 1 to {MAX_EXPIRY_DAYS}"
                    )),
            )
            .unwrap_or(DEFAULT_EXPIRY_DAYS),
    };
    errors.into_result()?;
    Ok(DigestSettings {
        recipients,
        expiry_days,
    })
}

/// Validates and stores the digest settings (audited); nothing is stored
/// when any field is wrong.
pub fn set(
    tx: &Transaction,
    ctx: &Context,
    input: &DigestInput,
) -> Result<DigestSettings, NotifyError> {
    let clean = validate(input).map_err(NotifyError::Invalid)?;
    let before = get(tx)?;
    let values = [
        (RECIPIENTS, clean.recipients.join(", ")),
        (EXPIRY_DAYS, clean.expiry_days.to_string()),
    ];
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::practice::store(
        tx,
        ctx,
        "settings.digest",
        "digest",
        &pairs,
        json!(before),
        json!(clean),
    )?;
    Ok(clean)
}
